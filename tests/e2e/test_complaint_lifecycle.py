"""One complaint through HTTP from intake to close-out, as the people involved do it:
a return, an extension, a dissatisfied rating and a reopen on the way. Checked three
ways: the event stream, the read model (the API), and what an outside subscriber
receives over AMQP.
"""

import json
from datetime import datetime, timedelta

import psycopg

from eventlog.deadlines import TZ
from eventlog.store import EventStore
from tests.integration.amqp_helpers import Subscriber

COMPLAINANT = {"name": "张三丰", "phone": "13912345678", "email": "zsf@example.com"}
NEW = {
    "channel": "12345",
    "kind": "complaint",
    "category": "shirking",
    "title": "营业执照变更被三个窗口来回推",
    "description": "办理营业执照变更，窗口说要去市场监管局，市场监管局又说归审批局。",
    "unit_complained": "approvals",
    "persons": ["窗口工作人员"],
    "location": {"address": "滨海新区行政审批大厅", "lat": 39.0255, "long": 117.7118},
    "complainant": COMPLAINANT,
}
EXPECTED = [
    "ComplaintReceived",
    "ComplaintAccepted",
    "ComplaintDispatched",  # to the market regulator, which returns it
    "ComplaintReturned",
    "ComplaintDispatched",  # to the approvals bureau
    "ComplaintSigned",
    "ComplaintExtensionRequested",
    "ComplaintExtensionApproved",
    "ComplaintReplied",
    "ComplaintFeedbackGiven",
    "ComplaintRated",  # dissatisfied
    "ComplaintReopened",
    "ComplaintDispatched",
    "ComplaintSigned",
    "ComplaintReplied",
    "ComplaintFeedbackGiven",
    "ComplaintRated",  # satisfied
    "ComplaintClosed",
]


def at(platform, *args):
    platform.clock.now = datetime(*args, tzinfo=TZ)


def act(platform, cid, action, role, body=None, unit=None, status=200):
    r = platform.post(
        f"/v1/complaints/{cid}/{action}", role, unit=unit, json=body or {}
    )
    assert r.status_code == status, (action, r.status_code, r.text)
    return r.json()


def test_a_complaint_from_intake_to_close_out(platform, database, amqp_uri):
    subscriber = Subscriber(amqp_uri, "binhai.complaint.#")
    try:
        cid = story(platform)
        received = subscriber.drain(
            lambda got: sum(m.envelope["stream_id"] == f"complaint-{cid}" for m in got)
            >= len(EXPECTED)
        )
    finally:
        subscriber.close()

    with psycopg.connect(database.app, autocommit=True) as conn:
        events = EventStore(conn).read_stream(f"complaint-{cid}")
    assert [e.type for e in events] == EXPECTED
    assert all(e.district == "binhai" for e in events)
    assert all(e.correlation_id == f"complaint-{cid}" for e in events)
    assert events[3].reason == "营业执照变更不属于本局职责"  # the return's reason
    assert events[3].actor.startswith("unit_handler:")

    mine = [m for m in received if m.envelope["stream_id"] == f"complaint-{cid}"]
    assert [m.envelope["type"] for m in mine] == EXPECTED
    assert [m.delivery_info["routing_key"] for m in mine][:3] == [
        "binhai.complaint.received",
        "binhai.complaint.accepted",
        "binhai.complaint.dispatched",
    ]
    for message in mine:  # whoever subscribes never learns who complained
        body = (
            message.body.decode() if isinstance(message.body, bytes) else message.body
        )
        for secret in COMPLAINANT.values():
            assert secret not in body
        assert "complainant" not in json.loads(body)["data"]
        assert "营业执照变更不属于本局职责" not in body  # a reason people wrote


def story(platform) -> str:
    at(platform, 2026, 9, 11, 10, 0)  # a Friday
    r = platform.post("/v1/complaints", "intake", json=NEW)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert r.headers["Location"] == f"/v1/complaints/{cid}"
    assert r.json()["query_code"] is None  # not anonymous: no code needed

    act(platform, cid, "accept", "intake")
    act(platform, cid, "dispatch", "intake", {"unit": "market_regulation"})
    # The market regulator sees the complaint, but not who made it.
    seen = platform.get(
        f"/v1/complaints/{cid}", "unit_handler", unit="market_regulation"
    )
    assert seen.status_code == 200 and "complainant" not in seen.json()
    assert seen.json()["feedback"] is None
    assert COMPLAINANT["phone"] not in seen.text
    returned = act(
        platform,
        cid,
        "return",
        "unit_handler",
        {"reason": "营业执照变更不属于本局职责"},
        unit="market_regulation",
    )
    assert returned["status"] == "returned" and returned["due_at"] is None

    at(platform, 2026, 9, 14, 9, 0)  # Monday
    act(platform, cid, "dispatch", "intake", {"unit": "approvals"})
    signed = act(platform, cid, "sign", "unit_handler", unit="approvals")
    # 15 working days from Mon Sep 14: Sun Sep 20 and Sat Oct 10 are make-up working
    # days, Sep 25-27 and Oct 1-7 are holidays: the 15th is Saturday, Oct 10.
    assert signed["due_at"].startswith("2026-10-10T23:59:59")
    assert "complainant" not in signed

    at(platform, 2026, 10, 8, 9, 0)
    act(
        platform,
        cid,
        "request_extension",
        "unit_handler",
        {"days": 5, "reason": "需要调取窗口录像"},
        unit="approvals",
    )
    approved = act(platform, cid, "approve_extension", "supervisor", {"reason": "同意"})
    assert approved["due_at"].startswith("2026-10-16T23:59:59")  # 5 more working days
    assert approved["extensions"] == 1

    at(platform, 2026, 10, 12, 15, 0)
    act(
        platform,
        cid,
        "reply",
        "unit_handler",
        {"result": "已约谈窗口负责人，当场办结变更", "substantiated": True},
        unit="approvals",
    )
    act(platform, cid, "feedback", "intake", {"text": "已电话告知办理结果"})
    reopened = act(
        platform,
        cid,
        "rate",
        "intake",
        {"rating": "dissatisfied", "comment": "态度仍差"},
    )
    assert reopened["status"] == "reopened" and reopened["reopened"] == 1

    at(platform, 2026, 10, 13, 9, 0)
    act(platform, cid, "dispatch", "intake", {"unit": "approvals", "note": "重办"})
    resigned = act(platform, cid, "sign", "unit_handler", unit="approvals")
    assert resigned["due_at"].startswith("2026-11-03T23:59:59")  # a fresh clock
    act(
        platform,
        cid,
        "reply",
        "unit_handler",
        {"result": "窗口负责人上门致歉"},
        unit="approvals",
    )
    act(platform, cid, "feedback", "intake", {"text": "已回访"})
    act(platform, cid, "rate", "intake", {"rating": "satisfied"})
    platform.clock.now += timedelta(hours=1)
    closed = act(platform, cid, "close", "intake")

    assert closed["status"] == "closed"
    assert closed["returns"] == 1 and closed["rating"] == "satisfied"
    # Intake sees that there is a complainant, and reads who it is with a reason.
    assert closed["complainant"]["state"] == "encrypted"
    assert closed["complainant"]["given"] == ["name", "phone", "email"]
    assert COMPLAINANT["phone"] not in json.dumps(closed)
    read = platform.get(
        f"/v1/complaints/{cid}/complainant", "intake", params={"reason": "回访"}
    )
    assert read.status_code == 200 and read.json()["phone"] == COMPLAINANT["phone"]
    assert [step["type"] for step in closed["history"]] == EXPECTED
    stats = platform.get("/v1/units/stats", "campaign_office").json()["units"]
    market = next(u for u in stats if u["unit"] == "market_regulation")
    assert market["returns"] >= 1
    return cid
