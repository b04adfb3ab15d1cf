"""nameko DependencyProviders: the connection pool, the event store, the clock, logs.

A provider builds the shared resource in `setup()`/`start()` and hands each worker its
own small wrapper in `get_dependency`, released in `worker_teardown`: a psycopg
connection must never be shared by two greenthreads ("another command is already in
progress"), so the pool has at least as many connections as the service has workers.
"""

from datetime import UTC, datetime

import structlog
from nameko.extensions import DependencyProvider
from psycopg_pool import ConnectionPool

from . import green
from .deadlines import OfficialCalendar, load_supplement
from .settings import load
from .store import EventStore
from .waker import Waker


class Database(DependencyProvider):
    """A psycopg connection per worker, as the application role, autocommit."""

    def setup(self):
        green.cooperate()
        config = self.container.config
        conninfo = config.get("LIUHEN_APP_CONNINFO") or load().app_conninfo
        workers = config.get("max_workers", 10)
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=workers + 1,
            open=False,
            kwargs={"autocommit": True},
            name=self.container.service_name,
        )
        self.connections = {}

    def start(self):
        self.pool.open(wait=True, timeout=30)

    def stop(self):
        self.pool.close()

    def kill(self):
        self.pool.close(timeout=0)

    def get_dependency(self, worker_ctx):
        conn = self.pool.getconn()
        self.connections[worker_ctx] = conn
        return conn

    def worker_teardown(self, worker_ctx):
        conn = self.connections.pop(worker_ctx, None)
        if conn is not None:
            self.pool.putconn(conn)


class Store(Database):
    """The event store over the worker's connection; `store.conn` for projections in
    the same transaction. One Waker per service process wakes the relay."""

    def setup(self):
        super().setup()
        self.waker = Waker(self.pool.conninfo)

    def stop(self):
        self.waker.close()
        super().stop()

    def get_dependency(self, worker_ctx):
        return EventStore(super().get_dependency(worker_ctx), waker=self.waker)


class Clock(DependencyProvider):
    """`now()`, timezone-aware. Tests replace it to move time."""

    def get_dependency(self, worker_ctx):
        return lambda: datetime.now(UTC)


class Calendar(DependencyProvider):
    """China's official calendar (eventlog/deadlines.py), with the operator's
    supplement for years the chinese_calendar package does not know yet
    (LIUHEN_CALENDAR_SUPPLEMENT, a YAML file)."""

    def setup(self):
        path = self.container.config.get("LIUHEN_CALENDAR_SUPPLEMENT")
        self.calendar = OfficialCalendar(load_supplement(path) if path else None)

    def get_dependency(self, worker_ctx):
        return self.calendar


class Logger(DependencyProvider):
    """A structlog logger bound with what identifies the work (see `context`)."""

    def get_dependency(self, worker_ctx):
        return structlog.get_logger().bind(
            **context(
                self.container.service_name,
                worker_ctx.entrypoint.method_name,
                worker_ctx.call_id,
                worker_ctx.context_data,
                worker_ctx.args,
            )
        )


def context(service, entrypoint, call_id, context_data, args) -> dict:
    """Service, entrypoint and call; district and correlation id from the caller's
    context; and for an event handler, the event it handles (from its envelope)."""
    bound = {
        "service": service,
        "entrypoint": entrypoint,
        "call_id": call_id,
        "correlation_id": context_data.get("correlation_id"),
        "district": context_data.get("district"),
    }
    envelope = args[0] if args and isinstance(args[0], dict) else {}
    if "event_id" in envelope:
        bound.update(
            event_id=envelope["event_id"],
            event_type=envelope.get("type"),
            stream_id=envelope.get("stream_id"),
            district=envelope.get("district"),
            correlation_id=envelope.get("correlation_id"),
        )
    return bound
