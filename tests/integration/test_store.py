"""The event store against the real PostgreSQL, as the application role."""

from datetime import timedelta

import eventlet
import psycopg
import pytest

from eventlog.model import ConcurrencyError, InvalidEvent, NewEvent
from eventlog.store import TAIL, EventStore
from eventlog.verify import verify
from tests.conftest import new_stream


def ev(type_="ComplaintReceived", **data):
    return NewEvent(type_, data, actor="op-1", reason="test")


def test_a_new_stream_starts_at_version_one_and_chains_its_hashes(store):
    stream = new_stream()
    first, second = store.append(
        stream, "binhai", 0, [ev(n=1), ev("ComplaintAccepted")]
    )
    assert (first.stream_version, second.stream_version) == (1, 2)
    assert first.prev_hash == bytes(32) and second.prev_hash == first.hash
    assert first.correlation_id == stream  # the stream is the case by default
    assert [e.type for e in store.read_stream(stream)] == [
        "ComplaintReceived",
        "ComplaintAccepted",
    ]


def test_appending_behind_or_ahead_of_the_stream_names_both_versions(store):
    stream = new_stream()
    store.append(stream, "binhai", 0, [ev(), ev()])
    with pytest.raises(
        ConcurrencyError,
        match=rf"{stream}: expected version 1, but the "
        r"stream is at version 2",
    ):
        store.append(stream, "binhai", 1, [ev()])
    with pytest.raises(ConcurrencyError, match="expected version 5"):
        store.append(stream, "binhai", 5, [ev()])
    assert store.stream_version(stream) == 2  # nothing was written


def test_concurrent_appenders_of_one_version_leave_one_winner_and_an_intact_chain(
    database, store
):
    stream = new_stream()
    store.append(stream, "binhai", 0, [ev()])

    def contender(i):
        with psycopg.connect(database.app, autocommit=True) as c:
            try:
                EventStore(c).append(stream, "binhai", 1, [ev(contender=i)])
                return "won"
            except ConcurrencyError:
                return "lost"

    outcomes = list(eventlet.GreenPool(8).imap(contender, range(8)))
    assert sorted(outcomes) == ["lost"] * 7 + ["won"]
    assert store.stream_version(stream) == 2
    assert verify(store.conn, stream_id=stream).ok


def test_events_and_projection_rows_commit_or_roll_back_together(store):
    stream = new_stream()
    with pytest.raises(RuntimeError), store.transaction():
        store.append(stream, "binhai", 0, [ev()])
        raise RuntimeError("the projection update failed")
    assert store.read_stream(stream) == []
    with store.transaction():
        store.append(stream, "binhai", 0, [ev()])
        store.append(stream, "binhai", 1, [ev("ComplaintAccepted")])
    assert store.stream_version(stream) == 2


def test_a_conflict_inside_a_callers_transaction_rolls_all_of_it_back(store):
    stream, other = new_stream(), new_stream()
    store.append(stream, "binhai", 0, [ev()])
    with pytest.raises(ConcurrencyError), store.transaction():
        store.append(other, "binhai", 0, [ev()])  # decided on the same stale state
        store.append(stream, "binhai", 0, [ev()])
    assert store.read_stream(other) == []
    assert store.stream_version(stream) == 1


def test_a_stream_stays_in_its_district(store):
    stream = new_stream()
    store.append(stream, "binhai", 0, [ev()])
    with pytest.raises(
        InvalidEvent, match=f"stream {stream} belongs to district binhai"
    ):
        store.append(stream, "jinghai", 1, [ev()])


def test_a_stream_reads_as_it_stood_at_a_version_or_a_time(conn):
    clock_time = [None]
    store = EventStore(conn, clock=lambda: clock_time[0])
    from datetime import UTC, datetime

    t0 = datetime(2026, 10, 1, 8, tzinfo=UTC)
    stream = new_stream()
    for i in range(3):
        clock_time[0] = t0 + timedelta(days=i)
        store.append(stream, "binhai", i, [ev(step=i)])
    assert [e.data["step"] for e in store.read_stream(stream, up_to_version=2)] == [
        0,
        1,
    ]
    at = store.read_stream(stream, at=t0 + timedelta(days=1, hours=1))
    assert [e.data["step"] for e in at] == [0, 1]


@pytest.mark.parametrize(
    "stream, district, data, message",
    [
        ("Complaint 1", "binhai", {}, "category-id"),
        ("complaint-1", "Bin Hai", {}, "district"),
        ("complaint-1", "binhai", {"amount": 1.5}, "float"),
    ],
)
def test_malformed_events_are_refused_before_anything_is_written(
    store, stream, district, data, message
):
    with pytest.raises(InvalidEvent, match=message):
        store.append(stream, district, 0, [ev(**data)])


def test_an_event_id_is_recorded_once(store):
    event = ev()
    store.append(new_stream(), "binhai", 0, [event])
    with pytest.raises(InvalidEvent, match="already recorded"):
        store.append(new_stream(), "binhai", 0, [event])


def test_readers_filter_by_district_and_type_and_resume_from_a_position(store):
    stream = new_stream()
    first, _ = store.append(stream, "jinghai", 0, [ev(), ev("ComplaintAccepted")])
    other = store.append(new_stream(), "binhai", 0, [ev()])[0]
    after = store.checkpoint_of(first.position)
    mine = store.read_after(after, districts=["jinghai"], limit=10_000)
    assert [e.type for e in mine if e.stream_id == stream] == ["ComplaintAccepted"]
    assert other.event_id not in {e.event_id for e in mine}
    typed = store.read_after(after, types=["ComplaintAccepted"], limit=10_000)
    assert {e.type for e in typed} == {"ComplaintAccepted"}
    with pytest.raises(InvalidEvent, match="no event at position"):
        store.checkpoint_of(10**12)


def test_tailing_reads_walk_the_commit_order_index_without_sorting(store, admin_conn):
    """A reader far behind must not sort everything after its checkpoint on each read:
    that made the relay slower the further it fell behind (found by bench/append)."""
    for _ in range(50):
        store.append(new_stream("thing"), "binhai", 0, [ev() for _ in range(20)])
    admin_conn.execute("ANALYZE eventlog.events")
    query = (
        TAIL.format(filters="")
        .replace("%(tx)s", "$1")
        .replace("%(pos)s", "$2")
        .replace("%(limit)s", "$3")
    )
    with admin_conn.transaction():
        admin_conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        admin_conn.execute(f"PREPARE tail(text, bigint, bigint) AS {query}")
        plan = "\n".join(
            r[0] for r in admin_conn.execute("EXPLAIN EXECUTE tail('0', 0, 500)")
        )
        admin_conn.execute("DEALLOCATE tail")
    assert "Sort" not in plan, plan
    assert "events_commit_order" in plan, plan


def test_a_stream_never_goes_backwards_in_commit_order(database, store):
    """Readers follow (tx_id, position). A transaction that took its id early must not
    append behind a head written by a later transaction, or a reader would receive
    version 2 before version 1 (found in review)."""
    stream = new_stream()
    with psycopg.connect(database.app, autocommit=True) as early:
        early_store = EventStore(early)
        with early_store.transaction():
            early_store.append(new_stream(), "binhai", 0, [ev()])  # takes an xid now
            store.append(stream, "binhai", 0, [ev()])  # a later xid, committed first
            with pytest.raises(ConcurrencyError, match="later transaction"):
                early_store.append(stream, "binhai", 1, [ev("ComplaintAccepted")])
    store.append(stream, "binhai", 1, [ev("ComplaintAccepted")])  # a retry succeeds
    versions = [
        e.stream_version for e in store.read_after(limit=10**6) if e.stream_id == stream
    ]
    assert versions == [1, 2]


def test_a_refused_batch_inside_a_callers_transaction_writes_none_of_it(store):
    stream = new_stream()
    store.append(stream, "binhai", 0, [ev()])
    with store.transaction():
        with pytest.raises(ConcurrencyError, match="is at version 1"):
            store.append(stream, "binhai", 0, [ev(), ev()])  # 2nd would fit at v2
    assert store.stream_version(stream) == 1


@pytest.mark.parametrize("column, value", [("tx_id", "'1'::xid8"), ("position", "1")])
def test_the_writer_cannot_choose_what_the_database_assigns(conn, column, value):
    override = "OVERRIDING SYSTEM VALUE" if column == "position" else ""
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(
            f"INSERT INTO eventlog.events ({column}, event_id, stream_id,"
            " stream_version, district, type, schema_version, data, actor,"
            f" occurred_at, recorded_at, prev_hash, hash) {override} VALUES ({value},"
            " gen_random_uuid(), 'x-1', 1, 'binhai', 'X', 1, '{}', 'a', now(), now(),"
            " sha256(''), sha256(''))"
        )


@pytest.mark.parametrize("expected", [1.0, True, -1, "1"])
def test_an_expected_version_must_be_a_whole_number(store, expected):
    stream = new_stream()
    store.append(stream, "binhai", 0, [ev()])
    with pytest.raises(InvalidEvent, match="expected version"):
        store.append(stream, "binhai", expected, [ev()])


@pytest.mark.parametrize(
    "stream, district", [("complaint-1\n", "binhai"), ("complaint-1", "binhai\n")]
)
def test_ids_with_a_trailing_newline_are_refused(store, stream, district):
    with pytest.raises(InvalidEvent):
        store.append(stream, district, 0, [ev()])


def test_the_relay_is_woken_only_after_the_real_commit(store):
    poked = []
    store.waker = type("W", (), {"poke": lambda self: poked.append(1)})()
    with store.conn.transaction():  # a caller's transaction the store did not open
        with store.transaction():
            store.append(new_stream(), "binhai", 0, [ev()])
        assert poked == []  # released a savepoint, not committed
    # The caller committed outside the store: the relay's polling finds the event.
    with store.transaction():  # the store's own outermost transaction
        store.append(new_stream(), "binhai", 0, [ev()])
        assert poked == []
    assert poked == [1]  # woken once, after that commit
    store.append(new_stream(), "binhai", 0, [ev()])  # alone: atomic, then woken
    assert poked == [1, 1]
