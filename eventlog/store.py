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
from psycopg.types.json import Jsonb

from . import canonical
from .model import (
    DISTRICT,
    STREAM_ID,
    START,
    Checkpoint,
    ConcurrencyError,
    InvalidEvent,
    NewEvent,
    RecordedEvent,
)

NOTIFY_CHANNEL = "liuhen_events"

COLUMNS = (
    "position, tx_id::text::bigint, event_id, stream_id, stream_version, district, type,"
    " schema_version, data, actor, reason, correlation_id, causation_id, occurred_at,"
    " recorded_at, prev_hash, hash"
)

# The previous hash is looked up inside the INSERT, in the same statement, so an append
# costs one round trip per event. If the predecessor (version - 1) is missing, prev_hash
# is NULL and the NOT NULL constraint fails: the caller's expected version was ahead of
# the stream. If the version exists already, the unique constraint fails: behind it.
# Both are reported as ConcurrencyError. Two concurrent appenders of the same version
# serialise on the unique index; the loser fails, so the chain never forks.
INSERT = """
WITH prev AS (
    SELECT COALESCE(
        (SELECT hash FROM eventlog.events
          WHERE stream_id = %(stream_id)s AND stream_version = %(stream_version)s - 1),
        CASE WHEN %(stream_version)s = 1 THEN %(genesis)s::bytea END) AS h
)
INSERT INTO eventlog.events (
    event_id, stream_id, stream_version, district, type, schema_version, data, actor,
    reason, correlation_id, causation_id, occurred_at, recorded_at, prev_hash, hash)
SELECT %(event_id)s, %(stream_id)s, %(stream_version)s, %(district)s, %(type)s,
       %(schema_version)s, %(data)s, %(actor)s, %(reason)s, %(correlation_id)s,
       %(causation_id)s, %(occurred_at)s, %(recorded_at)s, prev.h,
       sha256(prev.h || %(canonical)s::bytea)
  FROM prev
"""

# Commit-safe tail. bigserial positions become visible out of commit order: a
# transaction that took position 10 may commit after one that took 11, and a reader
# that had moved past 11 would never see 10. So readers follow (tx_id, position) and
# read only rows whose transaction is older than the oldest transaction still running
# (the xmin of the current snapshot). Every such transaction has committed or rolled
# back, so no row can ever appear behind the reader's checkpoint again. The price: a
# long-running writer holds readers back until it ends (latency, never loss).
TAIL = f"""
SELECT {COLUMNS} FROM eventlog.events
 WHERE (tx_id, position) > (%(tx)s::text::xid8, %(pos)s)
   AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
   {{filters}}
 ORDER BY tx_id, position
 LIMIT %(limit)s
"""


def _row(values) -> RecordedEvent:
    return RecordedEvent(*values)


class EventStore:
    def __init__(self, conn: psycopg.Connection, clock: Callable[[], datetime] | None = None):
        self.conn = conn
        self.clock = clock or (lambda: datetime.now(UTC))
        self._depth = 0
        self._appended = False

    # -- writing -----------------------------------------------------------------

    @contextmanager
    def transaction(self):
        """One transaction for events and projection rows; wakes the relay after commit.

        The NOTIFY goes out after the commit, outside the transaction: a NOTIFY inside
        a transaction takes a database-wide lock at commit that serialises every
        notifying commit (and so every append) behind one another's disk flush. Sent
        afterwards it is only a wake-up hint; if it is lost, the relay's polling finds
        the events anyway.
        """
        outermost = self._depth == 0
        self._depth += 1
        try:
            with self.conn.transaction():
                yield self
        except BaseException:
            if outermost:
                self._appended = False
            raise
        finally:
            self._depth -= 1
        if outermost and self._appended:
            self._appended = False
            self.conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")

    def append(
        self, stream_id: str, district: str, expected_version: int, events: Sequence[NewEvent]
    ) -> list[RecordedEvent]:
        """Append events after `expected_version` (0 for a new stream), or raise
        ConcurrencyError naming the stream and both versions. Nothing is written then."""
        if not STREAM_ID.match(stream_id):
            raise InvalidEvent(f"stream id {stream_id!r} is not of the form category-id")
        if not DISTRICT.match(district):
            raise InvalidEvent(f"district {district!r} is not a district code")
        if not events:
            return []
        recorded_at = self.clock()
        rows = [self._params(stream_id, district, expected_version + i + 1, e, recorded_at)
                for i, e in enumerate(events)]
        # Our own transaction when called alone; a savepoint inside the caller's, so
        # that after a conflict the caller's transaction is still usable.
        scope = self.transaction() if self._depth == 0 else self.conn.transaction()
        try:
            with scope:
                cur = self.conn.cursor()
                cur.executemany(INSERT + f" RETURNING {COLUMNS}", rows, returning=True)
                recorded = []
                while True:
                    recorded += [_row(v) for v in cur.fetchall()]
                    if not cur.nextset():
                        break
                self._appended = True
        except (psycopg.errors.UniqueViolation, psycopg.errors.NotNullViolation) as exc:
            if getattr(exc.diag, "constraint_name", None) == "events_event_id_key":
                raise InvalidEvent(f"event id already recorded: {exc.diag.message_detail}") from exc
            raise ConcurrencyError(stream_id, expected_version, self.stream_version(stream_id)) from exc
        return recorded

    @staticmethod
    def _params(stream_id, district, version, event: NewEvent, recorded_at) -> dict:
        fields = canonical.hashed_fields(
            event_id=event.event_id, stream_id=stream_id, stream_version=version,
            district=district, type=event.type, schema_version=event.schema_version,
            data=event.data, actor=event.actor, reason=event.reason,
            correlation_id=event.correlation_id or stream_id,
            causation_id=event.causation_id,
            occurred_at=event.occurred_at or recorded_at, recorded_at=recorded_at,
        )
        try:
            encoded = canonical.encode(fields)
        except (TypeError, ValueError) as exc:
            raise InvalidEvent(f"{event.type}: {exc}") from exc
        return {
            **fields,
            "event_id": event.event_id,
            "data": Jsonb(event.data),
            "occurred_at": event.occurred_at or recorded_at,
            "recorded_at": recorded_at,
            "canonical": encoded,
            "genesis": canonical.GENESIS,
        }

    # -- reading -----------------------------------------------------------------

    def stream_version(self, stream_id: str) -> int:
        row = self.conn.execute(
            "SELECT max(stream_version) FROM eventlog.events WHERE stream_id = %s",
            (stream_id,)).fetchone()
        return row[0] or 0

    def read_stream(
        self, stream_id: str, *, up_to_version: int | None = None, at: datetime | None = None
    ) -> list[RecordedEvent]:
        """A stream in version order; with `up_to_version` or `at` (recorded time) the
        stream as it stood then."""
        query = f"SELECT {COLUMNS} FROM eventlog.events WHERE stream_id = %(s)s"
        if up_to_version is not None:
            query += " AND stream_version <= %(v)s"
        if at is not None:
            query += " AND recorded_at <= %(at)s"
        rows = self.conn.execute(query + " ORDER BY stream_version",
                                 {"s": stream_id, "v": up_to_version, "at": at}).fetchall()
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
        filters, params = "", {"tx": str(checkpoint.tx_id), "pos": checkpoint.position,
                               "limit": limit}
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
            (position,)).fetchone()
        if row is None:
            raise InvalidEvent(f"no event at position {position}")
        return Checkpoint(row[0], position)
