"""Accountability over HTTP, from an overdue complaint to a closed appeal: the clue
raised once (even when the overdue event comes twice), verified and filed; findings, a
decision of an admonishment talk with a bulletin; dual investigation opening linked
cases on the unit's two leaders; one leader exempted with recorded grounds; the
subject's appeal refused; and the unit's score down by exactly the configured points,
each deduction naming its event."""

import time
from datetime import datetime

import psycopg
import pytest
import yaml

from eventlog.deadlines import TZ, OfficialCalendar
from eventlog.store import EventStore
from services.complaints import handlers as complaint_handlers
from tests.e2e.conftest import DISTRICTS
from tests.integration.amqp_helpers import publish_again

NEW = {
    "channel": "12345",
    "kind": "complaint",
    "category": "slow_action",
    "title": "施工许可申请一个月没有答复",
    "description": "材料齐全，窗口受理后再无消息，打电话也没人说得清。",
    "unit_complained": "approvals",
    "complainant": {"name": "王五", "phone": "13700001111"},
}
SUBJECT, MAIN_LEADER, LEADER_IN_CHARGE = "qian-lei", "zhang-wei", "liu-fang"


def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


def at(platform, *args):
    platform.clock.now = datetime(*args, tzinfo=TZ)


def until(fetch, done, timeout=20.0):
    """Poll `fetch()` until `done(result)`: the clue comes over AMQP, not at once."""
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def overdue_complaint(platform, database, unit="approvals") -> tuple[str, object]:
    """A complaint to a unit, signed on Mon 14 Sep 2026 (15 working days: due Sat
    10 Oct, a make-up working day), marked overdue on Mon 12 Oct."""
    at(platform, 2026, 9, 14, 9, 0)
    cid = ok(platform.post("/v1/complaints", "intake", json=NEW), 201)["id"]
    for action, role, body, as_unit in (
        ("accept", "intake", {}, None),
        ("dispatch", "intake", {"unit": unit}, None),
        ("sign", "unit_handler", {}, unit),
    ):
        r = platform.post(
            f"/v1/complaints/{cid}/{action}", role, unit=as_unit, json=body
        )
        ok(r)
    with psycopg.connect(database.app, autocommit=True) as conn:
        store = EventStore(conn)
        complaint_handlers.sweep(
            store, datetime(2026, 10, 12, 9, tzinfo=TZ), OfficialCalendar()
        )
        events = store.read_stream(f"complaint-{cid}")
    overdue = [e for e in events if e.type == "ComplaintOverdue"]
    assert len(overdue) == 1
    return cid, overdue[0]


def clues_of(platform, cid):
    return ok(platform.get(f"/v1/clues?source_id={cid}", "inspector"))["items"]


def score(platform, unit):
    got = ok(platform.get("/v1/assessment?period=2026", "campaign_office"))
    return next(u for u in got["units"] if u["unit"] == unit)


def case_act(platform, case_id, action, body, role="inspector", status=200):
    return ok(platform.post(f"/v1/cases/{case_id}/{action}", role, json=body), status)


@pytest.fixture(scope="module")
def story(platform, database, amqp_uri):
    before = score(platform, "approvals")
    cid, overdue = overdue_complaint(platform, database)
    clues = until(lambda: clues_of(platform, cid), lambda c: len(c) == 1)
    assert len(clues) == 1, "the overdue complaint raised no clue"
    return {"cid": cid, "overdue": overdue, "clue": clues[0], "before": before}


def test_an_overdue_complaint_raises_one_clue_even_delivered_twice(
    story, platform, database, amqp_uri
):
    clue = story["clue"]
    assert clue["kind"] == "complaint_overdue" and clue["unit"] == "approvals"
    assert clue["source"] == {"type": "complaint", "id": story["cid"]}
    assert clue["status"] == "registered" and clue["grounds"] == 1

    publish_again(amqp_uri, story["overdue"])
    publish_again(amqp_uri, story["overdue"])
    # The redeliveries are consumed by the time a later event raises its clue: the
    # subscription is one queue, and a marker complaint's clue comes after them.
    marker, _ = overdue_complaint(platform, database, unit="housing")
    until(lambda: clues_of(platform, marker), lambda c: len(c) == 1)
    assert len(clues_of(platform, story["cid"])) == 1
    view = ok(platform.get(f"/v1/clues/{clue['id']}", "inspector"))
    assert [s["type"] for s in view["history"]] == ["ClueRegistered"]
    assert view["grounds"] == 1
    # In the complaint's correlation, caused by the overdue event.
    assert view["history"][0]["correlation_id"] == f"complaint-{story['cid']}"
    assert view["history"][0]["causation_id"] == str(story["overdue"].event_id)


def test_from_clue_to_decision_dual_investigation_exemption_and_appeal(
    story, platform, database
):
    clue_id = story["clue"]["id"]
    at(platform, 2026, 10, 13, 10, 0)
    # Filing before verification is refused: 初核 comes first.
    r = platform.post(f"/v1/clues/{clue_id}/file", "inspector", json={"reason": "x"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_transition"
    verified = ok(platform.post(f"/v1/clues/{clue_id}/verify", "inspector", json={}))
    assert verified["status"] == "verifying"
    filed = ok(
        platform.post(
            f"/v1/clues/{clue_id}/file",
            "inspector",
            json={"reason": "初核属实，予以立案", "subject": SUBJECT},
        )
    )
    assert filed["status"] == "filed"
    case_id = filed["case_id"]

    case = ok(platform.get(f"/v1/cases/{case_id}", "campaign_office"))
    assert (case["status"], case["subject"], case["unit"], case["clue_id"]) == (
        "investigating",
        SUBJECT,
        "approvals",
        clue_id,
    )
    case_act(
        platform,
        case_id,
        "record_findings",
        {"findings": "受理后二十余日未审查，未向申请人说明", "substantiated": True},
    )
    decided = case_act(
        platform,
        case_id,
        "decide",
        {
            "measures": ["public_criticism", "admonishment_talk"],
            "reasoning": "拖延办理，造成不良影响",
            "collective_decision": True,
        },
    )
    # Ordered lightest first; the collective decision recorded, exempting nobody.
    assert decided["status"] == "decided"
    assert decided["measures"] == ["admonishment_talk", "public_criticism"]
    assert decided["measure_names"] == ["诫勉谈话", "通报批评"]
    assert decided["collective_decision"] is True

    # 一案双查: linked cases on the main leader and the leader in charge.
    children = {link["subject"]: link for link in decided["links"]}
    assert set(children) == {MAIN_LEADER, LEADER_IN_CHARGE}
    assert {c["relation"] for c in children.values()} == {"dual_investigation"}
    assert {c["subject_role"] for c in children.values()} == {
        "main_leader",
        "leader_in_charge",
    }
    main_case = children[MAIN_LEADER]["case_id"]
    in_charge = children[LEADER_IN_CHARGE]["case_id"]
    for child, sibling in ((main_case, in_charge), (in_charge, main_case)):
        view = ok(platform.get(f"/v1/cases/{child}", "inspector"))
        assert view["origin"] == "dual_investigation"
        assert view["status"] == "investigating"
        relations = {link["case_id"]: link["relation"] for link in view["links"]}
        assert relations == {case_id: "dual_investigation_of", sibling: "sibling"}
        # The whole set is one correlation: the complaint's.
        assert {s["correlation_id"] for s in view["history"]} == {
            f"complaint-{story['cid']}"
        }

    # A named bulletin, by the campaign office, listed for its period.
    bulletin = case_act(
        platform,
        case_id,
        "publish_bulletin",
        {"title": "关于区行政审批局钱磊同志拖延办理问题的通报", "body": "经查……"},
        role="campaign_office",
    )
    assert bulletin["bulletin_id"]
    listed = ok(platform.get("/v1/cases/bulletins?period=2026-10", "campaign_office"))
    mine = [b for b in listed["items"] if b["case_id"] == case_id]
    assert len(mine) == 1 and mine[0]["subject_name"] == "钱磊"
    assert mine[0]["unit_name"] == "区行政审批局"

    # The subject is served, appeals in time, and the appeal is refused.
    notified = case_act(platform, case_id, "notify_subject", {})
    assert notified["status"] == "notified"
    assert notified["appeal_until"] == "2026-11-12"  # 30 days from 13 Oct
    r = platform.post(f"/v1/cases/{case_id}/close", "inspector", json={})
    assert r.status_code == 409  # the appeal period is still open
    at(platform, 2026, 10, 20, 10, 0)
    case_act(platform, case_id, "appeal", {"grounds": "系窗口人手不足所致"})
    refused = case_act(
        platform,
        case_id,
        "decide_appeal",
        {"outcome": "refused", "reasoning": "理由不成立，维持原决定"},
    )
    assert refused["appeal_outcome"] == "refused"
    assert refused["measures"] == ["admonishment_talk", "public_criticism"]
    closed = case_act(platform, case_id, "close", {})
    assert (closed["status"], closed["outcome"]) == ("closed", "appeal_refused")

    # The leader in charge: exempted with recorded grounds, a reference case.
    case_act(
        platform,
        in_charge,
        "record_findings",
        {"findings": "推行告知承诺制试点中审查流程调整", "substantiated": True},
    )
    r = platform.post(
        f"/v1/cases/{in_charge}/assess_exemption",
        "inspector",
        json={
            "outcome": "exempt",
            "grounds": ["collective_decision"],
            "reasoning": "集体研究决定",
        },
    )
    assert r.status_code == 422  # a collective decision is no ground
    exempted = case_act(
        platform,
        in_charge,
        "assess_exemption",
        {
            "outcome": "exempt",
            "grounds": ["reform_or_pilot", "diligent", "no_personal_gain"],
            "reasoning": "落实区委改革部署，先行先试，勤勉尽责，未谋私利",
        },
    )
    assert exempted["status"] == "exempted" and exempted["exemption"] == "exempt"
    assert exempted["exemption_grounds"] == [
        "reform_or_pilot",
        "diligent",
        "no_personal_gain",
    ]
    step = exempted["history"][-1]
    assert step["type"] == "CaseExemptionAssessed"
    assert step["data"]["reasoning"].startswith("落实区委改革部署")
    assert case_act(platform, in_charge, "mark_reference", {})["reference"] is True
    assert case_act(platform, in_charge, "close", {})["outcome"] == "exempted"
    refs = ok(platform.get("/v1/cases?reference=true", "inspector"))["items"]
    assert in_charge in {c["id"] for c in refs}

    # The unit's score: down by exactly the configured points of its events, as the
    # district's file sets them, each deduction naming the event that caused it.
    after = score(platform, "approvals")
    with psycopg.connect(database.app, autocommit=True) as conn:
        charged = [
            e
            for stream in (f"complaint-{story['cid']}", f"case-{case_id}")
            for e in EventStore(conn).read_stream(stream)
            if e.type in ("ComplaintOverdue", "CaseDecided", "CaseBulletinPublished")
        ]
    assert len(charged) == 3
    expected = sum(configured_points(e) for e in charged)
    assert expected == 2 + 3 + 5  # binhai.yml: overdue, decision, bulletin
    assert round(story["before"]["score"] - after["score"], 2) == expected
    before_ids = {x["event_id"] for x in story["before"]["deductions"]}
    new = {x["event_id"]: x for x in after["deductions"]}
    new = {k: v for k, v in new.items() if k not in before_ids}
    assert set(new) == {str(e.event_id) for e in charged}
    for e in charged:
        deduction = new[str(e.event_id)]
        assert (deduction["type"], deduction["stream_id"]) == (e.type, e.stream_id)
        assert deduction["position"] == e.position
    # The leaders' linked cases cost the unit nothing more: one matter, one charge.
    assert not {main_case, in_charge} & {
        x["stream_id"].split("-", 1)[1] for x in after["deductions"]
    }


def configured_points(event) -> float:
    """What binhai's rule table deducts for `event` (every matching rule)."""
    rules = yaml.safe_load((DISTRICTS / "binhai.yml").read_text())["assessment"]
    return sum(
        rule["points"]
        for item in rules["items"]
        for rule in item["deductions"]
        if rule["event"] == event.type
        and all(event.data.get(k) == v for k, v in rule.get("where", {}).items())
    )


def test_roles_outside_inspection_and_the_campaign_office_are_refused(platform):
    for role in ("intake", "supervisor", "integrator"):
        r = platform.get("/v1/cases", role)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = platform.get("/v1/clues", "unit_handler", unit="approvals")
    assert r.status_code == 403
    r = platform.post("/v1/clues", "campaign_office", json={"kind": "nonsense"})
    assert r.status_code == 422
    assert set(r.json()["error"]["details"]) >= {"kind", "unit", "summary"}
    r = platform.get("/v1/cases/CA-2026-ZZZZZZZZ", "inspector")
    assert r.status_code == 404
    r = platform.get("/v1/cases/CA-2026-ZZZZZZZZ", "inspector", district="jinghai")
    assert r.status_code == 404
