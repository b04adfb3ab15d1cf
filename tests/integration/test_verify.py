"""Tampering by someone who can bypass every guard is found by `liuhen verify`."""

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from eventlog.model import NewEvent
from eventlog.verify import verify
from tests.conftest import liuhen, new_stream

# A district of its own: the rows these tests alter stay broken for the rest of the
# run, and other tests verify the shipped districts.
TAMPERED = f"tampered_{uuid.uuid4().hex[:8]}"


def tamper(admin_conn, statement, params):
    """As a superuser: triggers off for this transaction only, then change a row."""
    with admin_conn.transaction():
        admin_conn.execute("SET LOCAL session_replication_role = replica")
        admin_conn.execute(statement, params)


@pytest.fixture
def chain(store):
    stream = new_stream()
    events = store.append(
        stream,
        TAMPERED,
        0,
        [
            NewEvent("ComplaintReceived", {"unit": "u1"}, "op"),
            NewEvent("ComplaintAccepted", {}, "op"),
            NewEvent("ComplaintDispatched", {"unit": "u2"}, "op"),
        ],
    )
    return stream, events


def test_an_untouched_stream_verifies(conn, chain, database):
    stream, _ = chain
    assert verify(conn, stream_id=stream).ok
    done = liuhen(database, "verify", "--stream", stream)
    assert done.returncode == 0, done.stderr
    assert "intact: 3 events in 1 streams" in done.stdout


def test_an_altered_row_is_found_and_its_position_named(
    admin_conn, conn, chain, database
):
    stream, events = chain
    target = events[1]
    tamper(
        admin_conn,
        'UPDATE eventlog.events SET data = \'{"unit": "u9"}\' WHERE position = %s',
        (target.position,),
    )
    report = verify(conn, stream_id=stream)
    assert report.first.position == target.position
    assert "hash does not match" in report.first.problem
    done = liuhen(database, "verify", "--district", TAMPERED)
    assert done.returncode == 1
    assert f"BROKEN at position {target.position}" in done.stderr


def test_a_deleted_event_inside_a_stream_is_found(admin_conn, conn, chain):
    stream, events = chain
    tamper(
        admin_conn,
        "DELETE FROM eventlog.events WHERE position = %s",
        (events[1].position,),
    )
    report = verify(conn, stream_id=stream)
    assert (report.first.position, report.first.problem) == (
        events[2].position,
        "version 2 is missing",
    )


def test_swapped_contents_are_found(admin_conn, conn, chain):
    stream, events = chain
    a, b = events[0], events[2]
    tamper(
        admin_conn,
        "UPDATE eventlog.events SET data = CASE position WHEN %s THEN "
        "%s::jsonb ELSE %s::jsonb END WHERE position IN (%s, %s)",
        (a.position, '{"unit": "u2"}', '{"unit": "u1"}', a.position, b.position),
    )
    report = verify(conn, stream_id=stream)
    assert [brk.position for brk in report.breaks] == [a.position, b.position]


def test_the_command_line_fails_with_one_readable_line_when_the_database_is_away(
    tmp_path,
):
    env = {"PATH": "/usr/bin:/bin", "LIUHEN_DATABASE_URL": "postgresql://127.0.0.1:1/x"}
    done = subprocess.run(
        [sys.executable, "-m", "liuhen", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("liuhen: cannot reach PostgreSQL")


@pytest.mark.parametrize(
    "data, occurred_at, event_id",
    [
        ({"text": "滨海新区 \u2028 \t\n \x7f", "none": None, "big": 2**70}, None, None),
        ({"nested": [{"b": True, "a": [1, "二"]}], "empty": {}}, None, None),
        ({}, datetime(1900, 1, 1, 0, tzinfo=UTC), None),  # the earliest year allowed
        ({}, datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))), None),
        ({}, None, "6F9619FF8B86D011B42D00C04FC964FF"),  # a UUID in another spelling
    ],
)
def test_what_is_stored_verifies_whatever_its_shape(
    store, conn, data, occurred_at, event_id
):
    extra = {"event_id": UUID(event_id)} if event_id else {}
    stream = new_stream()
    store.append(
        stream,
        TAMPERED,
        0,
        [NewEvent("ComplaintReceived", data, "op", occurred_at=occurred_at, **extra)],
    )
    report = verify(conn, stream_id=stream)
    assert report.ok, report.breaks
    if occurred_at:
        assert store.read_stream(stream)[0].occurred_at == occurred_at
