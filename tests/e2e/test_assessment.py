"""Unit assessment (考核) end to end: complaints driven through HTTP cost their units
exactly the configured points, each deduction naming its event; redelivery costs
nothing more; the campaign office publishes a period once.

In jinghai, whose file has no rule table (the defaults apply: overdue 2, return
0.5, dissatisfied rating 1), in November 2026, which no other test touches. Scores
are compared before and after, so whatever else the district holds does not matter.
"""

import time
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid4

import psycopg

from eventlog.deadlines import TZ, OfficialCalendar
from eventlog.store import EventStore
from services.complaints import handlers as complaint_handlers
from tests.integration.amqp_helpers import publish_again

D = {"district": "jinghai"}
NEW = {
    "channel": "12345",
    "kind": "complaint",
    "category": "shirking",
    "description": "办理食品经营许可，窗口反复让补材料",
    "complainant": {"name": "王五", "phone": "13700002222"},
}


def at(platform, *args):
    platform.clock.now = datetime(*args, tzinfo=TZ)


def ok(r, status=200) -> dict:
    assert r.status_code == status, r.text
    return r.json()


def act(platform, cid, action, role, body=None, unit=None) -> dict:
    path = f"/v1/complaints/{cid}/{action}"
    return ok(platform.post(path, role, unit=unit, json=body or {}, **D))


def received(platform) -> str:
    cid = ok(platform.post("/v1/complaints", "intake", json=NEW, **D), 201)["id"]
    act(platform, cid, "accept", "intake")
    return cid


def error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]
    return r.json()["error"]


def unit_score(platform, unit, period="2026-11") -> dict:
    path = f"/v1/assessment/units/{unit}?period={period}"
    return ok(platform.get(path, "campaign_office", **D))["unit"]


def deductions(unit: dict) -> dict:
    return {d["event_id"]: d for d in unit["deductions"]}


def eventually(fetch, done, timeout=30.0):
    """Poll until `done(fetch())` or the deadline: consumption is asynchronous."""
    deadline = time.monotonic() + timeout
    while True:
        got = fetch()
        if done(got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {got}")
        time.sleep(0.1)


def events_of(database, cid, type_):
    with psycopg.connect(database.app, autocommit=True) as conn:
        stream = EventStore(conn).read_stream(f"complaint-{cid}")
    return [e for e in stream if e.type == type_]


def test_overdue_returned_and_dissatisfied_cost_exactly_the_configured_points(
    platform, database, amqp_uri
):
    at(platform, 2026, 11, 2, 9, 0)  # a Monday
    before = {u: unit_score(platform, u) for u in ("approvals", "market_regulation")}

    late = received(platform)  # signed, never replied: overdue
    act(platform, late, "dispatch", "intake", {"unit": "approvals"})
    signed = act(platform, late, "sign", "unit_handler", unit="approvals")
    assert signed["due_at"].startswith("2026-11-16T23:59:59")  # 10 working days

    bounced = received(platform)  # returned by the unit it was sent to
    act(platform, bounced, "dispatch", "intake", {"unit": "market_regulation"})
    act(
        platform,
        bounced,
        "return",
        "unit_handler",
        {"reason": "不属于本局职责"},
        unit="market_regulation",
    )

    disliked = received(platform)  # answered, and the complainant is dissatisfied
    act(platform, disliked, "dispatch", "intake", {"unit": "approvals"})
    act(platform, disliked, "sign", "unit_handler", unit="approvals")
    reply = {"result": "已补正材料清单并一次性告知"}
    act(platform, disliked, "reply", "unit_handler", reply, unit="approvals")
    act(platform, disliked, "feedback", "intake", {"text": "已电话告知"})
    act(platform, disliked, "rate", "intake", {"rating": "dissatisfied"})

    at(platform, 2026, 11, 18, 9, 0)
    with psycopg.connect(database.app, autocommit=True) as conn:
        complaint_handlers.sweep(
            EventStore(conn), platform.clock.now, OfficialCalendar()
        )
    [overdue] = events_of(database, late, "ComplaintOverdue")
    [returned] = events_of(database, bounced, "ComplaintReturned")
    [rated] = events_of(database, disliked, "ComplaintRated")

    approvals = eventually(
        lambda: unit_score(platform, "approvals"),
        lambda u: {str(overdue.event_id), str(rated.event_id)} <= set(deductions(u)),
    )
    market = eventually(
        lambda: unit_score(platform, "market_regulation"),
        lambda u: str(returned.event_id) in deductions(u),
    )
    assert approvals["score"] == before["approvals"]["score"] - 2 - 1
    assert market["score"] == before["market_regulation"]["score"] - 0.5
    mine = deductions(approvals)
    assert mine[str(overdue.event_id)] | {"occurred_at": None} == {
        "event_id": str(overdue.event_id),
        "type": "ComplaintOverdue",
        "stream_id": f"complaint-{late}",
        "position": overdue.position,
        "occurred_at": None,
        "item": "work_style",
        "rule": "ComplaintOverdue",
        "points": 2,
        "counted": 2,
    }
    assert datetime.fromisoformat(mine[str(overdue.event_id)]["occurred_at"]) == (
        overdue.occurred_at
    )
    assert mine[str(rated.event_id)]["item"] == "public_appraisal"
    assert mine[str(rated.event_id)]["rule"] == "ComplaintRated[rating=dissatisfied]"
    assert deductions(market)[str(returned.event_id)]["points"] == 0.5

    # The same event delivered again costs nothing more. A sentinel behind it on the
    # same queue (no unit: nothing to charge) shows when the queue got that far.
    publish_again(amqp_uri, overdue)
    sentinel = replace(overdue, event_id=uuid4(), data={**overdue.data, "unit": None})
    publish_again(amqp_uri, sentinel)
    with psycopg.connect(database.app, autocommit=True) as conn:

        def applied(event_id: UUID) -> int:
            return conn.execute(
                "SELECT count(*) FROM eventlog.processed"
                " WHERE consumer = 'accountability.marks' AND event_id = %s",
                (event_id,),
            ).fetchone()[0]

        eventually(lambda: applied(sentinel.event_id), lambda n: n == 1)
        assert applied(overdue.event_id) == 1
    again = unit_score(platform, "approvals")
    assert again["score"] == approvals["score"]
    assert [d["event_id"] for d in again["deductions"]].count(
        str(overdue.event_id)
    ) == 1

    # The whole district: every unit ranked, the deducted ones at the bottom.
    whole = ok(platform.get("/v1/assessment?period=2026-11", "inspector", **D))
    assert whole["district"] == "jinghai" and whole["complete"] is False
    assert {u["unit"] for u in whole["units"]} == {
        "approvals",
        "market_regulation",
        "government_services",
        "jinghai_town",
    }
    assert [u["rank"] for u in whole["units"]] == sorted(
        u["rank"] for u in whole["units"]
    )
    ranked = {u["unit"]: u for u in whole["units"]}
    assert ranked["approvals"]["admonishing_interview"] is True
    assert ranked["approvals"]["award_eligible"] is False
    assert [i["code"] for i in whole["rules"]["items"]] == [
        "work_style",
        "public_appraisal",
    ]


def test_only_those_who_oversee_units_read_and_only_the_office_publishes(platform):
    at(platform, 2026, 11, 18, 9, 0)
    for role in ("inspector", "campaign_office", "admin", "city"):
        ok(platform.get("/v1/assessment?period=2026-11", role, **D))
    for role in ("intake", "supervisor", "integrator"):
        error(platform.get("/v1/assessment", role, **D), 403, "forbidden")
    r = platform.get("/v1/assessment/units/approvals", "unit_handler", unit="approvals")
    error(r, 403, "forbidden")
    r = platform.post("/v1/assessment/publish", "inspector", json={"period": "2026-10"})
    error(r, 403, "forbidden")
    error(platform.get("/v1/assessment"), 401, "unauthenticated")


def test_bad_periods_and_unknown_units_are_refused_as_json(platform):
    at(platform, 2026, 11, 18, 9, 0)
    body = error(
        platform.get("/v1/assessment?period=2026-13", "inspector", **D), 422, "invalid"
    )
    assert "period" in body["details"]
    body = error(
        platform.get("/v1/assessment?period=2026-12", "inspector", **D), 422, "invalid"
    )
    assert "has not begun" in body["message"]
    for unit in ("nowhere", "Not-A-Unit"):
        r = platform.get(f"/v1/assessment/units/{unit}", "inspector", **D)
        error(r, 404, "not_found")
    ok(platform.get("/v1/assessment", "city", **D))  # the current year by default


def test_the_office_publishes_an_ended_period_once(platform):
    at(platform, 2026, 11, 18, 9, 0)
    publish = "/v1/assessment/publish"
    error(platform.post(publish, "campaign_office", json={}, **D), 422, "invalid")
    r = platform.post(publish, "campaign_office", json={"period": "2026-11"}, **D)
    assert "publish its results after" in error(r, 409, "not_due")["message"]
    made = ok(
        platform.post(publish, "campaign_office", json={"period": "2026-10"}, **D), 201
    )
    assert made["stream_id"] == "assessment-jinghai-2026-10"
    assert {r["unit"] for r in made["ranking"]} >= {"approvals", "jinghai_town"}
    r = platform.post(publish, "campaign_office", json={"period": "2026-10"}, **D)
    assert "published once" in error(r, 409, "illegal_transition")["message"]
    seen = ok(platform.get("/v1/assessment?period=2026-10", "inspector", **D))
    assert seen["published"]["event_id"] == made["event_id"]
