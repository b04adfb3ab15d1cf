"""The event store: append with optimistic concurrency, read streams, tail the log.

One `EventStore` wraps one connection (one per nameko worker; psycopg connections must
not be shared between greenthreads). The connection is in autocommit mode; `append`
opens its own transaction, or joins the caller's (`with store.transaction(): ...`) so
that a handler's events and its projection rows commit together.
"""

from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
from psycopg.pq import TransactionStatus

from . import canonical
from .model import (
    DISTRICT,
    START,
    STREAM_ID,
    Checkpoint,
    ConcurrencyError,
    InvalidEvent,
    NewEvent,
    RecordedEvent,
    check,
)

NOTIFY_CHANNEL = "liuhen_events"

COLUMNS = (
    "position, tx_id::text::bigint, event_id, stream_id, stream_version, district,"
    " type,"
    " schema_version, data, actor, reason, correlation_id, causation_id, occurred_at,"
    " recorded_at, prev_hash, hash"
)

# One plain statement per event, prepared by psycopg after a few runs: one round trip
# and no procedural code on the server (a PL/pgSQL version measured 10% slower at 8
# writers). The event travels as its canonical text (eventlog/canonical.py is the one
# definition of the encoding); the stored columns are parsed from that text (stream,
# version and district come from the same values as parameters), so the hash covers
# what is stored, and `verify` re-encodes the row to prove it. The statement inserts
# only if the stream's head is at the expected version and in the same district:
# otherwise it inserts nothing and the caller explains why.
#
# Readers follow (tx_id, position), and a transaction's id is taken at its first write,
# not at commit. A transaction that took its id early (say by writing a projection row)
# and appends after another transaction appended to the same stream and committed would
# put version n+1 before version n in commit-safe order. So the head's transaction must
# not be later than ours; if it is, the append is refused as a conflict and the command
# is retried in a new transaction, whose id is later than the head's.
#
# Two appenders that read the same head both try to insert the same version; the unique
# (stream_id, stream_version) index makes the second wait for the first and then fail,
# so a chain never forks.
APPEND = """
WITH e AS (SELECT %(event)s::text AS t, %(event)s::jsonb AS j),
head AS (SELECT stream_version, hash, district, tx_id FROM eventlog.events
          WHERE stream_id = %(stream)s ORDER BY stream_version DESC LIMIT 1),
next AS (
    SELECT e.t, e.j, coalesce(head.hash, %(genesis)s::bytea) AS prev
      FROM e LEFT JOIN head ON true
     WHERE coalesce(head.stream_version, 0) = %(expected)s
       AND coalesce(head.district, %(district)s) = %(district)s
       AND (head.tx_id IS NULL OR head.tx_id <= pg_current_xact_id()))
INSERT INTO eventlog.events (
    event_id, stream_id, stream_version, district, type, schema_version, data, actor,
    reason, correlation_id, causation_id, occurred_at, recorded_at, prev_hash, hash)
SELECT (j->>'event_id')::uuid, %(stream)s, %(expected)s + 1, %(district)s, j->>'type',
       (j->>'schema_version')::integer, j->'data',
       j->>'actor', j->>'reason', j->>'correlation_id', j->>'causation_id',
       (j->>'occurred_at')::timestamptz, (j->>'recorded_at')::timestamptz,
       prev, sha256(prev || convert_to(t, 'UTF8'))
  FROM next
RETURNING position, tx_id::text::bigint, prev_hash, hash
"""

# Commit-safe tail. bigserial positions become visible out of commit order: a
# transaction that took position 10 may commit after one that took 11, and a reader
# that had moved past 11 would never see 10. So readers follow (tx_id, position) and
# read only rows whose transaction is older than the oldest transaction still running
# (the xmin of the current snapshot). Every such transaction has committed or rolled
# back, so no row can ever appear behind the reader's checkpoint again. The price: a
# long-running writer holds readers back until it ends (latency, never loss).
# The ORDER BY names the table's columns: unqualified, `tx_id` would be the output
# column (the bigint cast), which the index cannot order, and every read would sort
# everything after the checkpoint.
TAIL = f"""
SELECT {COLUMNS} FROM eventlog.events
 WHERE (tx_id, position) > (%(tx)s::text::xid8, %(pos)s)
   AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
   {{filters}}
 ORDER BY events.tx_id, events.position
 LIMIT %(limit)s
"""


# Every district of the log, by a loose index scan of events_district_commit_order
# (one probe per district, not a scan of the log).
DISTRICTS = """
WITH RECURSIVE d(district) AS (
    SELECT min(district) FROM eventlog.events
    UNION ALL
    SELECT (SELECT min(district) FROM eventlog.events WHERE district > d.district)
      FROM d WHERE d.district IS NOT NULL)
SELECT district FROM d WHERE district IS NOT NULL
"""


def districts(conn) -> list[str]:
    return [row[0] for row in conn.execute(DISTRICTS).fetchall()]


def _row(values) -> RecordedEvent:
    return RecordedEvent(*values)


class _Refused(Exception):
    """A statement of a batch inserted nothing; explained after the rollback."""


class EventStore:
    """`waker`: an `eventlog.waker.Waker` shared by the process; without one, the store
    sends its NOTIFY itself after each commit (simple, one more round trip)."""

    def __init__(
        self,
        conn: psycopg.Connection,
        clock: Callable[[], datetime] | None = None,
        waker=None,
    ):
        self.conn = conn
        self.clock = clock or (lambda: datetime.now(UTC))
        self.waker = waker
        self._appended = False

    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != TransactionStatus.IDLE

    # -- writing -----------------------------------------------------------------

    @contextmanager
    def transaction(self):
        """One transaction for events and projection rows; wakes the relay after commit
        (never inside the transaction: see eventlog/waker.py for why)."""
        # Outermost means the connection had no transaction, whoever opened it: inside
        # a caller's own transaction this is a savepoint, and waking the relay at its
        # release would wake it before the commit (it would find nothing and sleep).
        outermost = not self.in_transaction()
        try:
            with self.conn.transaction():
                yield self
        except BaseException:
            if outermost:
                self._appended = False
            raise
        if outermost and self._appended:
            self._appended = False
            self._notify()

    def append(
        self,
        stream_id: str,
        district: str,
        expected_version: int,
        events: Sequence[NewEvent],
    ) -> list[RecordedEvent]:
        """Append events after `expected_version` (0 for a new stream), or raise
        ConcurrencyError naming the stream and both versions. Nothing is written then.

        Inside `store.transaction()`, a conflict aborts the whole transaction: the
        command was decided on stale state, so its projection rows must go too, and the
        caller retries the command from the top.
        """
        if type(expected_version) is not int or expected_version < 0:
            raise InvalidEvent(
                f"expected version {expected_version!r} is not a whole number >= 0"
            )
        if not STREAM_ID.fullmatch(stream_id):
            raise InvalidEvent(
                f"stream id {stream_id!r} is not of the form category-id"
            )
        if not DISTRICT.fullmatch(district):
            raise InvalidEvent(f"district {district!r} is not a district code")
        if not events:
            return []
        recorded_at = self.clock()
        prepared = [
            self._prepare(stream_id, district, expected_version + i + 1, e, recorded_at)
            for i, e in enumerate(events)
        ]
        params = [
            {
                "stream": stream_id,
                "district": district,
                "expected": expected_version + i,
                "event": text,
                "genesis": canonical.GENESIS,
            }
            for i, (_, text) in enumerate(prepared)
        ]
        try:
            if len(params) == 1:  # one statement: atomic alone, or in the caller's
                rows = self.conn.execute(APPEND, params[0]).fetchall()
                if not rows:
                    raise self._refusal(stream_id, district, expected_version)
                if self.in_transaction():
                    self._appended = True  # the caller's commit wakes the relay
                else:
                    self._notify()
            else:
                # Several events: each statement checks its own head, so after a refused
                # first event a later one could still fit. Our own transaction or a
                # savepoint in the caller's undoes them all before we explain.
                try:
                    with (
                        self.conn.transaction()
                        if self.in_transaction()
                        else self.transaction()
                    ):
                        rows = self._append_many(params)
                        if len(rows) < len(params):
                            raise _Refused
                except _Refused:
                    raise self._refusal(stream_id, district, expected_version) from None
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "events_event_id_key":
                raise InvalidEvent(
                    f"event id already recorded: {exc.diag.message_detail}"
                ) from exc
            raise ConcurrencyError(stream_id, expected_version, None) from exc
        return [
            RecordedEvent(position=pos, tx_id=tx, prev_hash=prev, hash=hash_, **fields)
            for (fields, _), (pos, tx, prev, hash_) in zip(prepared, rows, strict=True)
        ]

    def _append_many(self, params: list[dict]) -> list[tuple]:
        """Pipelined; each statement sees the row of the one before it."""
        cur = self.conn.cursor()
        cur.executemany(APPEND, params, returning=True)
        rows = []
        while True:
            rows += cur.fetchall()
            if not cur.nextset():
                break
        self._appended = True
        return rows

    def _refusal(self, stream_id: str, district: str, expected: int) -> Exception:
        """Why the statement inserted nothing: the head moved, another district, or a
        head written by a later transaction."""
        head = self.conn.execute(
            "SELECT stream_version, district, tx_id > pg_current_xact_id_if_assigned()"
            " FROM eventlog.events WHERE stream_id = %s"
            " ORDER BY stream_version DESC LIMIT 1",
            (stream_id,),
        ).fetchone()
        version, owner, later = head if head else (0, district, False)
        if version != expected:
            return ConcurrencyError(stream_id, expected, version)
        if owner != district:
            return InvalidEvent(
                f"stream {stream_id} belongs to district {owner}, not {district}"
            )
        if later:
            return ConcurrencyError(
                stream_id,
                expected,
                version,
                detail="its head was appended by a later transaction that committed "
                "first; retry in a new transaction",
            )
        return ConcurrencyError(  # the head moved again while we looked: retry
            stream_id, expected, version, detail="it moved during the append"
        )

    def _notify(self) -> None:
        """Called after the commit: the relay must never be woken before it can see."""
        if self.waker is not None:
            self.waker.poke()
        else:
            self.conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")

    @staticmethod
    def _prepare(stream_id, district, version, event: NewEvent, recorded_at):
        """(RecordedEvent fields, canonical text) of one event."""
        event = check(event)
        fields = dict(
            event_id=event.event_id,
            stream_id=stream_id,
            stream_version=version,
            district=district,
            type=event.type,
            schema_version=event.schema_version,
            data=event.data,
            actor=event.actor,
            reason=event.reason,
            correlation_id=event.correlation_id or stream_id,
            causation_id=event.causation_id,
            occurred_at=event.occurred_at or recorded_at,
            recorded_at=recorded_at,
        )
        try:
            text = canonical.encode(canonical.hashed_fields(**fields)).decode("utf-8")
        except (TypeError, ValueError) as exc:
            raise InvalidEvent(f"{event.type}: {exc}") from exc
        return fields, text

    # -- reading -----------------------------------------------------------------

    def stream_version(self, stream_id: str) -> int:
        row = self.conn.execute(
            "SELECT max(stream_version) FROM eventlog.events WHERE stream_id = %s",
            (stream_id,),
        ).fetchone()
        return row[0] or 0

    def read_stream(
        self,
        stream_id: str,
        *,
        up_to_version: int | None = None,
        at: datetime | None = None,
    ) -> list[RecordedEvent]:
        """A stream in version order; with `up_to_version` or `at` (recorded time) the
        stream as it stood then."""
        query = f"SELECT {COLUMNS} FROM eventlog.events WHERE stream_id = %(s)s"
        if up_to_version is not None:
            query += " AND stream_version <= %(v)s"
        if at is not None:
            query += " AND recorded_at <= %(at)s"
        rows = self.conn.execute(
            query + " ORDER BY stream_version",
            {"s": stream_id, "v": up_to_version, "at": at},
        ).fetchall()
        return [_row(v) for v in rows]

    def read_after(
        self,
        checkpoint: Checkpoint = START,
        *,
        limit: int = 500,
        districts: Iterable[str] | None = None,
        types: Iterable[str] | None = None,
    ) -> list[RecordedEvent]:
        """The next committed events after `checkpoint`, in commit-safe order."""
        filters, params = (
            "",
            {"tx": str(checkpoint.tx_id), "pos": checkpoint.position, "limit": limit},
        )
        if districts is not None:
            filters += " AND district = ANY(%(districts)s)"
            params["districts"] = list(districts)
        if types is not None:
            filters += " AND type = ANY(%(types)s)"
            params["types"] = list(types)
        rows = self.conn.execute(TAIL.format(filters=filters), params).fetchall()
        return [_row(v) for v in rows]

    def checkpoint_of(self, position: int) -> Checkpoint:
        """The checkpoint just after the event at `position` (0: the start), so that a
        reader that knows only the last position it received can resume exactly."""
        if position == 0:
            return START
        row = self.conn.execute(
            "SELECT tx_id::text::bigint FROM eventlog.events WHERE position = %s",
            (position,),
        ).fetchone()
        if row is None:
            raise InvalidEvent(f"no event at position {position}")
        return Checkpoint(row[0], position)
