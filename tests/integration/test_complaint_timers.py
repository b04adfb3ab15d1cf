"""The deadline timer: overdue marked exactly once, reminders one working day ahead,
even with several sweepers at once."""

import threading
from datetime import datetime, timedelta

import psycopg
import pytest

from eventlog.deadlines import TZ, OfficialCalendar, TimeLimit
from eventlog.store import EventStore
from eventlog.tenancy import district_scope
from services.complaints import commands as c
from services.complaints import handlers, views
from tests.integration.relay_helpers import new_district

CAL = OfficialCalendar()
INTAKE = c.Actor("op-1", "intake")
HANDLER = c.Actor("h-1", "unit_handler", "approvals")
SIGNED = datetime(2026, 9, 28, 10, 0, tzinfo=TZ)  # Monday before National Day


def signed_complaint(store, district) -> str:
    """A complaint signed for on SIGNED with 3 working days: due at the end of Oct 8
    (Sep 29, Sep 30, then Oct 1-7 are the National Day holidays, Oct 8 is the
    third)."""
    made = handlers.receive(
        store,
        district,
        {"channel": "12345", "category": "slow_action", "description": "等了三个月"},
        INTAKE,
        SIGNED,
        CAL,
    )
    cid = made["id"]
    for cmd in (
        c.AcceptComplaint(by=INTAKE),
        c.DispatchComplaint("approvals", "区行政审批局", TimeLimit(3), by=INTAKE),
        c.SignComplaint(by=HANDLER),
    ):
        handlers._run(store, district, cid, cmd, SIGNED, CAL)
    return cid


def types(store, cid) -> list[str]:
    return [e.type for e in store.read_stream(handlers.stream(cid))]


def test_the_deadline_skips_the_national_day_holidays(store):
    cid = signed_complaint(store, new_district())
    signed = store.read_stream(handlers.stream(cid))[-1]
    assert signed.data["due_at"] == "2026-10-08T23:59:59.999999+08:00"
    # one working day before Oct 8 is Sep 30: the holidays between don't count
    assert signed.data["remind_at"] == "2026-09-30T00:00:00+08:00"


def test_a_reminder_goes_out_once_on_the_working_day_before(store):
    district = new_district()
    cid = signed_complaint(store, district)
    handlers.sweep(store, datetime(2026, 9, 29, 23, 0, tzinfo=TZ), CAL)
    assert "ComplaintDeadlineNear" not in types(store, cid)
    for hour in (1, 2):
        handlers.sweep(store, datetime(2026, 9, 30, hour, 0, tzinfo=TZ), CAL)
    assert types(store, cid).count("ComplaintDeadlineNear") == 1


def test_overdue_is_marked_once_with_several_sweepers_at_once(database):
    with psycopg.connect(database.app, autocommit=True) as conn:
        district = new_district()
        cid = signed_complaint(EventStore(conn), district)
    late = datetime(2026, 10, 9, 0, 0, 1, tzinfo=TZ)
    start, errors = threading.Barrier(4), []

    def sweeper():
        try:
            with psycopg.connect(database.app, autocommit=True) as conn:
                start.wait()
                handlers.sweep(EventStore(conn), late, CAL)
        except Exception as exc:  # reported below: a thread's failure is the test's
            errors.append(exc)

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    with psycopg.connect(database.app, autocommit=True) as conn:
        store = EventStore(conn)
        assert types(store, cid).count("ComplaintOverdue") == 1
        handlers.sweep(store, late + timedelta(days=3), CAL)
        assert types(store, cid).count("ComplaintOverdue") == 1


@pytest.mark.parametrize("moment", [datetime(2026, 10, 8, 23, 59, tzinfo=TZ)])
def test_nothing_is_overdue_before_the_end_of_the_last_day(store, moment):
    cid = signed_complaint(store, new_district())
    handlers.sweep(store, moment, CAL)
    assert "ComplaintOverdue" not in types(store, cid)


def test_a_complaint_returned_after_its_deadline_is_not_overdue_twice(store):
    """Approvals lets the deadline pass, then returns the complaint; housing signs
    for it. The mark stays with approvals; housing inherits the (paused) clock but
    no second mark, and the sweep stops asking about it."""
    district = new_district()
    cid = signed_complaint(store, district)
    late = datetime(2026, 10, 9, 9, 0, tzinfo=TZ)
    handlers.sweep(store, late, CAL)
    housing = c.Actor("h-2", "unit_handler", "housing")
    for cmd, at in (
        (c.ReturnComplaint("不是我们的", by=HANDLER), late),
        (c.DispatchComplaint("housing", "区住建委", TimeLimit(3), by=INTAKE), late),
        (c.SignComplaint(by=housing), late + timedelta(days=3)),
    ):
        handlers._run(store, district, cid, cmd, at, CAL)
    for hours in (1, 2):
        handlers.sweep(store, late + timedelta(days=3, hours=hours), CAL)
    assert types(store, cid).count("ComplaintOverdue") == 1
    with district_scope(store.conn, district):
        flagged = store.conn.execute(
            "SELECT overdue_marked FROM complaints.timers WHERE complaint_id = %s",
            (cid,),
        ).fetchone()[0]
    assert flagged  # ticked, so later sweeps do not load the stream again
    stats = {row["unit"]: row for row in views.unit_stats(store.conn, district)}
    assert stats["approvals"]["overdue"] == 1 and stats["approvals"]["returns"] == 1
    assert stats["housing"]["overdue"] == 0 and stats["housing"]["complaints"] == 1
