"""No reader ever skips an event that commits late.

bigserial positions are taken at INSERT and become visible at COMMIT, so under
concurrency they appear out of order. Here 8 writers append with random pauses and
random rollbacks while one transaction holds an early position open for seconds; two
readers tail the log with `read_after`. Each reader must see every committed event
exactly once and nothing else. A naive reader that trusts positions runs alongside as
the control: it must have skipped the held event, or this test proves nothing.
"""

import random
from collections import Counter

import eventlet
import psycopg

from eventlog.model import START, Checkpoint, NewEvent
from eventlog.store import EventStore
from tests.conftest import new_stream

WRITERS, TRANSACTIONS, HOLD_SECONDS = 8, 25, 3.0


class Rollback(Exception):
    pass


def writer(app, seed, committed):
    rng = random.Random(seed)
    with psycopg.connect(app, autocommit=True) as conn:
        store = EventStore(conn)
        for _ in range(TRANSACTIONS):
            try:
                with store.transaction():
                    events = [
                        NewEvent("ThingHappened", {"w": seed}, "writer")
                        for _ in range(rng.randint(1, 3))
                    ]
                    store.append(new_stream("thing"), "binhai", 0, events)
                    eventlet.sleep(
                        rng.uniform(0, 0.02)
                    )  # commit order != position order
                    if rng.random() < 0.2:
                        raise Rollback
                committed.update(e.event_id for e in events)
            except Rollback:
                pass


def holder(app, committed, started):
    with psycopg.connect(app, autocommit=True) as conn:
        store = EventStore(conn)
        with store.transaction():
            event = NewEvent("ThingHappened", {"held": True}, "holder")
            store.append(new_stream("thing"), "binhai", 0, [event])
            started.send(True)
            eventlet.sleep(HOLD_SECONDS)  # later positions commit meanwhile
        committed.add(event.event_id)
        return event.event_id


def tail(app, start, done, seen):
    checkpoint = start
    with psycopg.connect(app, autocommit=True) as conn:
        store = EventStore(conn)
        idle_after_done = 0
        while idle_after_done < 2:
            batch = store.read_after(checkpoint, limit=37, types=["ThingHappened"])
            seen.extend(e.event_id for e in batch)
            if batch:
                checkpoint = Checkpoint(batch[-1].tx_id, batch[-1].position)
            else:
                idle_after_done += done.ready()
                eventlet.sleep(0.01)


def naive_tail(app, start_position, done, seen):
    position = start_position
    with psycopg.connect(app, autocommit=True) as conn:
        idle_after_done = 0
        while idle_after_done < 2:
            rows = conn.execute(
                "SELECT position, event_id FROM eventlog.events WHERE position > %s "
                "AND type = 'ThingHappened' ORDER BY position LIMIT 37",
                (position,),
            ).fetchall()
            seen.extend(r[1] for r in rows)
            if rows:
                position = rows[-1][0]
            else:
                idle_after_done += done.ready()
                eventlet.sleep(0.01)


def test_every_committed_event_is_seen_exactly_once_by_each_reader(database, store):
    # Start past everything already in the log (other tests share this database).
    head = store.read_after(START, limit=10**9)
    start = Checkpoint(head[-1].tx_id, head[-1].position) if head else START
    start_position = store.conn.execute(
        "SELECT coalesce(max(position), 0) FROM eventlog.events"
    ).fetchone()[0]

    committed: set = set()
    done = eventlet.Event()
    readers = [[], []]
    naive: list = []
    pool = eventlet.GreenPool(16)
    for seen in readers:
        pool.spawn(tail, database.app, start, done, seen)
    pool.spawn(naive_tail, database.app, start_position, done, naive)

    started = eventlet.Event()
    held = pool.spawn(holder, database.app, committed, started)
    started.wait()
    writers = [
        pool.spawn(writer, database.app, seed, committed) for seed in range(WRITERS)
    ]
    for w in writers:
        w.wait()
    held_id = held.wait()
    done.send(True)
    pool.waitall()

    in_log = {
        r[0]
        for r in store.conn.execute(
            "SELECT event_id FROM eventlog.events"
            " WHERE type = 'ThingHappened' AND position > %s",
            (start_position,),
        )
    }
    assert in_log == committed  # rolled-back appends left nothing behind
    assert len(committed) > WRITERS * TRANSACTIONS  # some transactions held 2 or 3
    for seen in readers:
        duplicates = [i for i, n in Counter(seen).items() if n > 1]
        assert duplicates == []
        assert set(seen) == committed  # none missed, none invented
    # The control: trusting positions loses the late commit.
    assert held_id not in naive, (
        "the naive reader saw the held event: no skip was provoked"
    )
