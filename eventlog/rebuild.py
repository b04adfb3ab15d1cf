"""Rebuild a read model from the log: empty its tables and fold every event again.

    report = rebuild(conn, services.complaints.rebuild.REBUILD, on_progress=bar)

Each service declares its read models as `Projection`s next to its projection code
(services/<name>/rebuild.py): the tables it fills, parents first; the events it folds,
by stream category and/or type; `project`, the service's own projection code applied
to one event; and the tables of its schema a rebuild leaves alone (`kept`: state that
is not derived from events), each with its reason.

One transaction does it all, so readers see the old model until the new one is
complete, and a failure anywhere leaves the old one as it was:

1. **Role.** It runs as `liuhen_owner` (SET LOCAL ROLE, from a connection of the
   migrating role, as migrations do). Not the application role: it may not delete
   from the tables that hold facts (marks, returns, overdue marks, query codes:
   SELECT and INSERT only), nor lock them against writers, and widening its grants
   would let every service erase them. Not the migrating role as it is (usually a
   superuser): a superuser bypasses row-level security, and a projection bug could
   then write a row into another district unseen. The owner is bound by FORCE'd
   row-level security like the services, so each event is folded under its own
   district (set_config(..., true), as handle() does) and the policy's WITH CHECK
   still guards every row. The owner cannot change the log either: the append-only
   triggers refuse it too.
2. **Lock** every table in EXCLUSIVE mode: it conflicts with INSERT, UPDATE, DELETE
   and SELECT FOR UPDATE, not with plain SELECT. Writers wait; readers go on reading
   the old rows (MVCC) until the commit. (TRUNCATE would take ACCESS EXCLUSIVE and
   stop readers too, and is not MVCC-safe.) See `_lock` for how it avoids deadlocks.
3. **Empty** the tables with DELETE, children first. A table under row-level security
   is emptied district by district, for every district of the log: each of its rows
   came from an event of its district (WITH CHECK saw to that).
4. **Fold** every matching committed event in log order, read with a server-side
   cursor in batches (client memory stays constant). Within a stream, position order
   is version order: version n+1 is appended only once version n is visible to its
   appender, so it draws a later position. The cursor's snapshot is taken after the
   locks are held: a writer that appended and now waits on a lock to project has not
   committed, so its events are not folded here; it projects them itself once the
   rebuild commits, onto the new tables. Nothing is lost, nothing applied twice.
5. **Commit.**

The rebuild's transaction, and the writers waiting on it, hold back
pg_snapshot_xmin: the relay and every tail reader pause until the rebuild ends
(latency, never loss), and commands on the model wait as long. Run rebuilds when the
platform is quiet. The deleted rows are left to autovacuum.

A table filled by a consumer of events (`consumer`: accountability's marks, notify's
units of streams) folds the events that consumer has applied, as its tracking rows in
eventlog.processed say, not every matching event of the log: an event still on its
way through RabbitMQ would otherwise be applied now and again on arrival (it has no
tracking row yet, so first_delivery lets it in). The tracking rows are the consumer's
operational state: a rebuild reads them and never changes them. A delivery in flight
has either committed before the rebuild's snapshot (folded here) or waits on a lock
(it applies itself afterwards).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from contracts.envelope import envelope

from .migrate import OWNER
from .model import RecordedEvent
from .relay import WITHHELD
from .store import COLUMNS, EventStore
from .store import districts as store_districts

BATCH = 500
# Below deadlock_timeout (1 s unless configured): waiting for the locks, the rebuild
# gives way before the server would pick a victim, who might be a live writer.
LOCK_WAIT = "500ms"
PATIENCE = 60.0  # seconds to go on trying for the locks
SCOPE = "SELECT set_config('liuhen.district', %s, true)"
APPLIED = (
    " JOIN (SELECT event_id AS applied_id, processed_at AS applied_at"
    " FROM eventlog.processed WHERE consumer = %(consumer)s) applied"
    " ON applied.applied_id = events.event_id"
)


@dataclass(frozen=True)
class Projection:
    """A read model as a rebuild sees it.

    `project(store, event)` applies one recorded event with the event's district set;
    with a `consumer`, `project(store, event, applied_at)` also gets the time the
    consumer applied it (its tracking row's processed_at: now() of the consumer's
    transaction). `categories` and `types` select the events folded (both given: an
    event must match both). `kept`: (table, why) of the tables of the model's schema
    that a rebuild leaves alone.
    """

    name: str
    about: str
    tables: tuple[str, ...]
    project: Callable[..., None]
    categories: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    consumer: str | None = None
    kept: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        if not self.tables:
            raise ValueError(f"projection {self.name} names no table")
        if not (self.categories or self.types):
            raise ValueError(f"projection {self.name} folds no category or type")

    def folds(self) -> str:
        """What it folds, in words: `liuhen projections list`."""
        what = ", ".join(sorted(self.types)) or "every event"
        where = ", ".join(f"{c}-*" for c in sorted(self.categories)) or "every stream"
        applied = f", as consumer {self.consumer} applied them" if self.consumer else ""
        return f"{what} of {where}{applied}"


@dataclass(frozen=True)
class Report:
    name: str
    events: int
    rows: dict[str, int]
    seconds: float

    def __str__(self) -> str:
        rows = ", ".join(f"{table} {n}" for table, n in self.rows.items())
        return (
            f"rebuilt {self.name}: {self.events} events folded; rows: {rows}; "
            f"{self.seconds:.2f} s"
        )


class RebuildError(Exception):
    """The rebuild stopped and rolled back: a readable reason."""


def per_event(apply: Callable) -> Callable[..., None]:
    """A service's `apply(store, recorded_list)` as a Projection's `project`."""

    def project(store, event: RecordedEvent) -> None:
        apply(store, [event])

    project.__qualname__ = f"per_event({apply.__module__}.{apply.__qualname__})"
    return project


def published(event: RecordedEvent) -> dict:
    """The envelope a consumer was sent for `event`, for a consumer's projection:
    as the relay publishes it, its data withheld if it fails to encode."""
    try:
        return envelope(event)
    except Exception:
        return envelope(event, WITHHELD)


def rebuild(
    conn: psycopg.Connection,
    projection: Projection,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    patience: float = PATIENCE,
) -> Report:
    """Rebuild `projection` in one transaction of its own on `conn` (a connection of
    a role that may SET ROLE liuhen_owner, not in a transaction)."""
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise RebuildError("a rebuild needs a transaction of its own")
    started = time.monotonic()
    with conn.transaction():
        _become_owner(conn)
        _lock(conn, projection.tables, patience)
        districts = store_districts(conn)
        secured = {t for t in projection.tables if _secured(conn, t)}
        _empty(conn, projection.tables, secured, districts)
        events = _fold(conn, projection, on_progress or (lambda done, total: None))
        rows = {
            t: _count(conn, t, districts if t in secured else None)
            for t in projection.tables
        }
    return Report(projection.name, events, rows, time.monotonic() - started)


def _become_owner(conn) -> None:
    who = conn.info.parameter_status("session_authorization") or "this role"
    try:
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER)))
    except psycopg.errors.InsufficientPrivilege:
        raise RebuildError(
            f"{who} may not act as {OWNER}, the owner of the read models: rebuild "
            "as the migrating role (LIUHEN_DATABASE_URL), not the application's"
        ) from None


def _table(name: str) -> sql.Identifier:
    return sql.Identifier(*name.split("."))


def _lock(conn, tables, patience: float) -> None:
    """EXCLUSIVE locks on every table, or RebuildError after `patience` seconds.

    One LOCK statement takes the tables one after another. Waiting for the second
    while holding the first, it could deadlock with a writer that holds the second
    and wants the first; PostgreSQL would then abort one of the two after
    deadlock_timeout, maybe the writer, whose user would see an error. So each try
    waits at most LOCK_WAIT, shorter than deadlock_timeout, in a savepoint: giving up
    releases whatever it took, the writer finishes, and the next try gets through.
    Writers that come while a try waits queue behind it, so the tables drain.
    """
    statement = sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(
        sql.SQL(", ").join(_table(t) for t in tables)
    )
    deadline = time.monotonic() + patience
    while True:
        try:
            with conn.transaction():
                conn.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
                conn.execute(statement)
                conn.execute("SET LOCAL lock_timeout TO DEFAULT")
            return
        except psycopg.errors.LockNotAvailable:
            if time.monotonic() > deadline:
                raise RebuildError(
                    f"could not lock {', '.join(tables)} within {patience:g} s: "
                    "writers kept them busy; try again when the platform is quieter"
                ) from None
            time.sleep(0.05)


def _secured(conn, table: str) -> bool:
    """Row-level security enabled on the table (forced on every read model)."""
    row = conn.execute(
        "SELECT relrowsecurity FROM pg_class WHERE oid = %s::regclass", (table,)
    ).fetchone()
    return bool(row[0])


def _empty(conn, tables, secured, districts) -> None:
    for table in reversed(tables):  # children before the rows they reference
        delete = sql.SQL("DELETE FROM {}").format(_table(table))
        for district in districts if table in secured else [""]:
            conn.execute(SCOPE, (district,))
            conn.execute(delete)
    conn.execute(SCOPE, ("",))


def _count(conn, table: str, districts: list[str] | None) -> int:
    count = sql.SQL("SELECT count(*) FROM {}").format(_table(table))
    total = 0
    for district in [""] if districts is None else districts:
        conn.execute(SCOPE, (district,))
        total += conn.execute(count).fetchone()[0]
    conn.execute(SCOPE, ("",))
    return total


def _selection(projection: Projection) -> tuple[str, dict]:
    """FROM and WHERE of the events `projection` folds, and their parameters."""
    where, params = [], {}
    if projection.categories:
        where.append("split_part(stream_id, '-', 1) = ANY(%(categories)s)")
        params["categories"] = sorted(projection.categories)
    if projection.types:
        where.append("type = ANY(%(types)s)")
        params["types"] = sorted(projection.types)
    source = "eventlog.events"
    if projection.consumer:
        source += APPLIED
        params["consumer"] = projection.consumer
    return f" FROM {source} WHERE {' AND '.join(where)}", params


def _fold(conn, projection: Projection, on_progress) -> int:
    source, params = _selection(projection)
    total = conn.execute("SELECT count(*)" + source, params).fetchone()[0]
    on_progress(0, total)
    columns = COLUMNS + (", applied_at" if projection.consumer else "")
    store, done = EventStore(conn), 0
    with conn.cursor(name="liuhen_rebuild") as cursor:
        query = f"SELECT {columns}{source} ORDER BY events.position"
        cursor.execute(query, params)
        while rows := cursor.fetchmany(BATCH):
            _apply(conn, store, projection, rows)
            done += len(rows)
            on_progress(done, total)
    return done


def _apply(conn, store, projection: Projection, rows) -> None:
    """One batch, pipelined: the statements go without waiting for each other's
    results, one round trip a batch rather than one a statement. A database error
    surfaces at the end of the batch, so the message names the batch."""
    event = None
    try:
        with conn.pipeline():
            for row in rows:
                event = RecordedEvent(*row[:17])
                conn.execute(SCOPE, (event.district,))
                if projection.consumer:
                    projection.project(store, event, row[17])
                else:
                    projection.project(store, event)
    except Exception as exc:
        where = f"positions {rows[0][0]}-{rows[-1][0]}"
        if event is not None and not isinstance(exc, psycopg.Error):
            where = f"{event.type} at position {event.position} ({event.stream_id})"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise RebuildError(
            f"{projection.name}: folding {where} failed, nothing changed: {reason}"
        ) from exc
