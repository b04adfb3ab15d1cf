"""Unit assessment on a real database: marks recorded once per event, sealed by
district, scored from the rule table in force, and a period published once.

Each test works in a district of its own (a copy of binhai.yml under a random
code), so marks of other tests never enter its scores.
"""

import uuid
from datetime import datetime

import pytest

from contracts.envelope import envelope
from eventlog.deadlines import TZ
from eventlog.model import Actor, NewEvent
from eventlog.tenancy import district_scope
from services.accountability import assessment_handlers as handlers
from services.accountability.assessment import IllegalTransition, NotDue, NotFound
from services.directory.load import load
from tests.integration.test_directory_rules import copy

AT = datetime(2026, 9, 3, 10, 0, tzinfo=TZ)
OFFICE = Actor("office-1", "campaign_office")


@pytest.fixture
def district(store, tmp_path) -> str:
    code, path = copy(tmp_path)
    load(store, path, "test:assessment")
    return code


def happened(store, district, type_, data, at=AT) -> dict:
    """An event appended to the log, as the relay would publish it."""
    stream = f"complaint-C-2026-{uuid.uuid4().hex[:8].upper()}"
    [event] = store.append(
        stream, district, 0, [NewEvent(type_, data, "system:test", occurred_at=at)]
    )
    return envelope(event)


def marks(conn, district) -> list:
    with district_scope(conn, district):
        return conn.execute(
            "SELECT event_id, unit, type FROM accountability.marks ORDER BY position"
        ).fetchall()


def test_an_event_delivered_twice_is_one_mark(store, conn, district):
    overdue = happened(
        store,
        district,
        "ComplaintOverdue",
        {"unit": "approvals", "due_at": "2026-09-02T23:59:59+08:00"},
    )
    assert handlers.record_mark(store, overdue) == "recorded"
    assert handlers.record_mark(store, overdue) == "again"
    assert [(str(m[0]), m[1], m[2]) for m in marks(conn, district)] == [
        (overdue["event_id"], "approvals", "ComplaintOverdue")
    ]


def test_an_event_without_a_unit_charges_nobody(store, conn, district):
    rated = happened(store, district, "ComplaintRated", {"rating": "dissatisfied"})
    assert handlers.record_mark(store, rated) == "no unit"
    assert marks(conn, district) == []
    assert handlers.record_mark(store, rated) == "again"


def test_a_districts_marks_are_invisible_to_another(store, conn, district, tmp_path):
    # Another district of its own: jinghai's marks come from whatever ran before.
    other, path = copy(tmp_path)
    load(store, path, "test:assessment")
    overdue = happened(
        store,
        district,
        "ComplaintOverdue",
        {"unit": "housing", "due_at": "2026-09-02T23:59:59+08:00"},
    )
    handlers.record_mark(store, overdue)
    assert marks(conn, other) == []
    assert len(marks(conn, district)) == 1
    assert conn.execute("SELECT count(*) FROM accountability.marks").fetchone() == (0,)


def test_the_report_scores_every_unit_and_names_each_events_deduction(store, district):
    returned = happened(
        store, district, "ComplaintReturned", {"unit": "housing", "clock_paused": True}
    )
    rated = happened(
        store, district, "ComplaintRated", {"unit": "housing", "rating": "dissatisfied"}
    )
    for event in (returned, rated):
        handlers.record_mark(store, event)
    now = datetime(2026, 9, 14, 9, 0, tzinfo=TZ)
    report = handlers.report(store, district, "2026-09", now)
    assert len(report["units"]) == 14 and report["complete"] is False
    [housing] = [u for u in report["units"] if u["unit"] == "housing"]
    assert housing["score"] == 100 - 0.5 - 1  # binhai.yml's table
    assert [
        (d["event_id"], d["position"], d["item"]) for d in housing["deductions"]
    ] == [
        (returned["event_id"], returned["position"], "work_style"),
        (rated["event_id"], rated["position"], "public_appraisal"),
    ]
    assert housing["admonishing_interview"] is True  # the only unit that lost points
    one = handlers.unit_report(store, district, "housing", "2026-09", now)
    assert one["unit"] == housing and one["ranked"] == 14
    with pytest.raises(NotFound, match="no unit 'nowhere'"):
        handlers.unit_report(store, district, "nowhere", "2026-09", now)


def test_a_period_is_published_once_and_only_after_it_ends(store, district):
    overdue = happened(
        store,
        district,
        "ComplaintOverdue",
        {"unit": "ecology", "due_at": "2026-09-02T23:59:59+08:00"},
    )
    handlers.record_mark(store, overdue)
    with pytest.raises(NotDue, match="the period 2026-09 ends 2026-10-01"):
        handlers.publish(
            store, district, "2026-09", OFFICE, datetime(2026, 9, 30, tzinfo=TZ)
        )
    later = datetime(2026, 10, 8, 9, 0, tzinfo=TZ)
    made = handlers.publish(store, district, "2026-09", OFFICE, later)
    assert made["stream_id"] == f"assessment-{district}-2026-09"
    assert made["bottom"] == ["ecology"]
    assert made["ranking"][-1] == {"unit": "ecology", "score": 98, "rank": 14}
    [event] = store.read_stream(made["stream_id"])
    assert event.type == "AssessmentPublished"
    assert event.actor == "campaign_office:office-1"
    assert event.data["ranking"][-1] == {"unit": "ecology", "score": "98", "rank": 14}
    assert envelope(event)["data"]["bottom"] == ["ecology"]
    with pytest.raises(IllegalTransition, match="published once"):
        handlers.publish(store, district, "2026-09", OFFICE, later)
    assert len(store.read_stream(made["stream_id"])) == 1
    report = handlers.report(store, district, "2026-09", later)
    assert report["published"]["event_id"] == str(event.event_id)
