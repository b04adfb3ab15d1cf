"""An inspector replays a case: the accountability story (an overdue complaint, its
clue, the case from findings to a refused appeal) through `/v1/audit/cases/{id}` and
`liuhen audit replay`, every step from intake to appeal, each verified; `at` shows the
case as it stood before the decision; the dossier prints it; and `GET /v1/audit/verify`
and `liuhen verify --json` agree, digests included."""

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import liuhen as run_liuhen
from tests.e2e.test_accountability import at as clock_at
from tests.e2e.test_accountability import (
    case_act,
    clues_of,
    ok,
    overdue_complaint,
    until,
)
from tests.integration.amqp_helpers import Subscriber

STEPS = [
    "ComplaintReceived",
    "ComplaintAccepted",
    "ComplaintDispatched",
    "ComplaintSigned",
    "ComplaintOverdue",
    "ClueRegistered",
    "ClueVerificationStarted",
    "ClueFiled",
    "CaseOpened",
    "CaseFindingsRecorded",
    "CaseDecided",
    "CaseSubjectNotified",
    "CaseAppealed",
    "CaseAppealDecided",
    "CaseClosed",
]


@pytest.fixture(scope="module")
def case(platform, database):
    cid, _ = overdue_complaint(platform, database)
    clue = until(lambda: clues_of(platform, cid), lambda c: len(c) == 1)[0]
    clock_at(platform, 2026, 10, 13, 10, 0)
    ok(platform.post(f"/v1/clues/{clue['id']}/verify", "inspector", json={}))
    filed = ok(
        platform.post(
            f"/v1/clues/{clue['id']}/file",
            "inspector",
            json={"reason": "初核属实，予以立案", "subject": "qian-lei"},
        )
    )
    case_id = filed["case_id"]
    case_act(
        platform,
        case_id,
        "record_findings",
        {"findings": "受理后二十余日未审查", "substantiated": True},
    )
    before_decision = datetime.now(UTC)
    case_act(
        platform,
        case_id,
        "decide",
        {"measures": ["admonishment_talk"], "reasoning": "拖延办理，造成不良影响"},
    )
    case_act(platform, case_id, "notify_subject", {})
    clock_at(platform, 2026, 10, 20, 10, 0)
    case_act(platform, case_id, "appeal", {"grounds": "系窗口人手不足所致"})
    case_act(
        platform,
        case_id,
        "decide_appeal",
        {"outcome": "refused", "reasoning": "理由不成立，维持原决定"},
    )
    case_act(platform, case_id, "close", {})
    return {"cid": cid, "case_id": case_id, "before_decision": before_decision}


def liuhen(database, digest_key, *args):
    return run_liuhen(database, *args, LIUHEN_DIGEST_KEY=str(digest_key), COLUMNS="200")


def test_the_case_replays_from_intake_to_appeal(platform, case):
    view = ok(platform.get(f"/v1/audit/cases/{case['case_id']}", "inspector"))
    assert view["case"] == f"complaint-{case['cid']}"
    assert view["verified"] is True
    mine = [
        e
        for e in view["entries"]
        if e["stream_id"] in (f"complaint-{case['cid']}", f"case-{case['case_id']}")
        or e["type"].startswith("Clue")
    ]
    # The decision linked the dual investigation's two cases to this one.
    assert [e["type"] for e in mine if e["type"] != "CaseLinked"] == STEPS
    assert [e["type"] for e in mine].count("CaseLinked") == 2
    by_type = {e["type"]: e for e in mine}
    # Linked by causation: the clue was raised by the overdue event.
    assert (
        by_type["ClueRegistered"]["caused_by"]
        == by_type["ComplaintOverdue"]["position"]
    )
    # Who, why, and what changed.
    filed = by_type["ClueFiled"]
    assert (filed["role"], filed["reason"]) == ("inspector", "初核属实，予以立案")
    decided = by_type["CaseDecided"]
    assert decided["label"] == "问责决定"
    assert "诫勉谈话" in decided["summary"] or "admonishment_talk" in decided["summary"]
    assert {"field": "status", "before": "investigated", "after": "decided"} in decided[
        "changes"
    ]
    assert all(e["verified"] and e["summary"] and e["hash"] for e in view["entries"])
    # The dual investigation's cases are in the same case file.
    opened = [e for e in view["entries"] if e["type"] == "CaseOpened"]
    assert len(opened) == 3
    # Whoever complained is never shown.
    received = by_type["ComplaintReceived"]
    masked = {"field": "complainant_ciphertext", "before": None, "after": "（保密）"}
    assert masked in received["changes"]
    text = json.dumps(view, ensure_ascii=False)
    assert "王五" not in text and "13700001111" not in text


def test_the_notifications_sent_are_in_the_case(platform, case):
    def notifications():
        view = ok(platform.get(f"/v1/audit/cases/{case['cid']}", "inspector"))
        return [e for e in view["entries"] if e["type"].startswith("Notification")]

    found = until(
        notifications, lambda n: any(e["type"] == "NotificationSent" for e in n)
    )
    assert any(e["type"] == "NotificationQueued" for e in found)
    assert all(e["stream_id"].startswith("notification-") for e in found)


def test_at_a_time_shows_the_case_before_the_decision(
    platform, case, database, digest_key
):
    then = case["before_decision"].isoformat()
    view = ok(
        platform.get(
            f"/v1/audit/cases/{case['case_id']}", "inspector", params={"at": then}
        )
    )
    types = [e["type"] for e in view["entries"]]
    assert "CaseFindingsRecorded" in types and "CaseDecided" not in types
    stream = ok(
        platform.get(
            f"/v1/audit/streams/case-{case['case_id']}",
            "inspector",
            params={"at": then},
        )
    )
    assert stream["status"] == "investigated"
    assert stream["version"] < stream["current_version"]
    assert (
        stream["state"]["substantiated"] is True and "measures" not in stream["state"]
    )
    by_version = ok(
        platform.get(
            f"/v1/audit/streams/case-{case['case_id']}",
            "inspector",
            params={"version": 1},
        )
    )
    assert (by_version["version"], by_version["status"]) == (1, "investigating")

    done = liuhen(
        database, digest_key, "audit", "replay", case["case_id"], "--at", then
    )
    assert done.returncode == 0, done.stderr
    assert "调查结论" in done.stdout and "问责决定" not in done.stdout
    assert f"case-{case['case_id']}: version 2 of" in done.stdout
    assert "status investigated" in done.stdout
    full = liuhen(database, digest_key, "audit", "replay", case["case_id"])
    assert full.returncode == 0, full.stderr
    for label in (
        "登记受理",
        "交办",
        "签收",
        "超期",
        "线索登记",
        "立案",
        "问责决定",
        "申诉",
        "结案",
    ):
        assert label in full.stdout, label


def test_the_audit_status_of_each_stream_is_the_services_own(platform, case):
    """The audit folds statuses from the events alone (services/audit/summaries.py);
    the owning services fold them with their rules. They must agree."""
    complaint = ok(platform.get(f"/v1/complaints/{case['cid']}", "inspector"))
    accountability = ok(platform.get(f"/v1/cases/{case['case_id']}", "inspector"))
    clue = ok(platform.get(f"/v1/clues/{accountability['clue_id']}", "inspector"))
    for stream, status in (
        (f"complaint-{case['cid']}", complaint["status"]),
        (f"case-{case['case_id']}", accountability["status"]),
        (f"clue-{clue['id']}", clue["status"]),
    ):
        got = ok(platform.get(f"/v1/audit/streams/{stream}", "inspector"))
        assert got["status"] == status, stream


def test_the_dossier_prints_the_case(platform, case):
    r = platform.get(f"/v1/audit/cases/{case['case_id']}/dossier", "inspector")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/html")
    assert "attachment" in r.headers["Content-Disposition"]
    html = r.text
    assert f"complaint-{case['cid']}" in html and "问责决定" in html
    assert "全部事件哈希校验通过" in html
    assert "王五" not in html


def test_verify_over_http_and_on_the_command_line_agree(
    platform, database, amqp_uri, digest_key
):
    subscriber = Subscriber(amqp_uri, "binhai.digest.recorded")
    try:
        done = liuhen(database, digest_key, "digest", "record", "--district", "binhai")
        assert done.returncode == 0, done.stderr
        recorded = json.loads(done.stdout.splitlines()[0])
        got = subscriber.drain(lambda r: len(r) == 1)
    finally:
        subscriber.close()
    assert got and got[0].envelope["data"] == recorded  # published, as signed

    def both():
        api = ok(platform.get("/v1/audit/verify", "admin"))
        cli = liuhen(database, digest_key, "verify", "--district", "binhai", "--json")
        again = ok(platform.get("/v1/audit/verify", "admin"))
        return api, cli, again

    # Notifications may still be being sent: compare when the log held still.
    api, cli, again = until(both, lambda r: r[0] == r[2], timeout=30)
    assert api == again
    assert json.loads(cli.stdout) == api
    assert api["digests"]["checked"] >= 1 and api["digests"]["signatures"] == "checked"
    assert all(f["ok"] for f in api["digests"]["findings"])


def test_audit_is_for_inspectors_and_in_the_district_only(platform, case):
    path = f"/v1/audit/cases/{case['case_id']}"
    r = platform.get(path, "unit_handler", unit="approvals")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    # The history shows every reason intake wrote: for inspection only.
    for role in ("city", "admin", "intake"):
        assert platform.get(path, role).status_code == 403, role
    r = platform.get(path, "inspector", district="jinghai")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = platform.get(
        f"/v1/audit/streams/case-{case['case_id']}", "inspector", district="jinghai"
    )
    assert r.status_code == 404
    r = platform.get(path, "inspector", params={"at": "yesterday"})
    assert r.status_code == 422 and "at" in r.json()["error"]["details"]
    r = platform.get("/v1/audit/verify", "admin", params={"district": "jinghai"})
    assert r.status_code == 403
    r = platform.get("/v1/audit/streams/no%20such", "inspector")
    assert r.status_code == 404
