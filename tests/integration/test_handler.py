"""The command handler every service uses: load, fold, decide, append, project."""

import eventlet
import psycopg
import pytest

from eventlog.handler import handle
from eventlog.model import ConcurrencyError, NewEvent
from eventlog.store import EventStore
from tests.conftest import new_stream


class Closed(Exception):
    pass


def fold(history):
    """State of a counter stream: (count, closed)."""
    count, closed = 0, False
    for event in history:
        count += event.type == "CounterIncremented"
        closed = closed or event.type == "CounterClosed"
    return count, closed


def increment(state):
    count, closed = state
    if closed:
        raise Closed(f"counter is closed at {count}; cannot increment")
    return [NewEvent("CounterIncremented", {"to": count + 1}, "tester")]


def test_a_command_appends_what_decide_returns_after_the_stream_so_far(store):
    stream = new_stream("counter")
    handle(store, stream, "binhai", fold=fold, decide=increment)
    recorded = handle(store, stream, "binhai", fold=fold, decide=increment)
    assert [(e.stream_version, e.data) for e in recorded] == [(2, {"to": 2})]


def test_a_refused_command_writes_nothing(store):
    stream = new_stream("counter")
    store.append(stream, "binhai", 0, [NewEvent("CounterClosed", {}, "tester")])
    with pytest.raises(Closed, match="closed at 0"):
        handle(store, stream, "binhai", fold=fold, decide=increment)
    assert store.stream_version(stream) == 1


def test_the_projection_commits_or_rolls_back_with_the_events(store):
    stream = new_stream("counter")

    def failing_projection(store, recorded):
        raise RuntimeError("projection row refused")

    with pytest.raises(RuntimeError):
        handle(
            store,
            stream,
            "binhai",
            fold=fold,
            decide=increment,
            project=failing_projection,
        )
    assert store.stream_version(stream) == 0


def test_concurrent_commands_on_one_stream_all_land_by_retrying(database, store):
    stream = new_stream("counter")

    def one(_):
        with psycopg.connect(database.app, autocommit=True) as conn:
            handle(
                EventStore(conn),
                stream,
                "binhai",
                fold=fold,
                decide=increment,
                retries=20,
            )

    list(eventlet.GreenPool(6).imap(one, range(12)))
    history = store.read_stream(stream)
    assert [e.data["to"] for e in history] == list(range(1, 13))


def test_inside_a_callers_transaction_a_conflict_is_not_retried(store, database):
    """Retrying inside the caller's transaction would meet the same conflict again:
    the caller must retry its whole transaction."""
    stream, decisions = new_stream("counter"), []

    def counting(state):
        decisions.append(state)
        return increment(state)

    with pytest.raises(ConcurrencyError), store.transaction():
        store.append(new_stream(), "binhai", 0, [NewEvent("OtherThing", {}, "t")])
        with psycopg.connect(database.app, autocommit=True) as other:  # a later xid
            EventStore(other).append(
                stream, "binhai", 0, [NewEvent("CounterIncremented", {}, "t")]
            )
        handle(store, stream, "binhai", fold=fold, decide=counting, retries=5)
    assert len(decisions) == 1


def test_projections_run_with_the_streams_district_set(store):
    seen = []

    def project(store, recorded):
        seen.append(
            store.conn.execute(
                "SELECT current_setting('liuhen.district', true)"
            ).fetchone()[0]
        )

    handle(
        store,
        new_stream("counter"),
        "jinghai",
        fold=fold,
        decide=increment,
        project=project,
    )
    assert seen == ["jinghai"]
