"""One pytest configuration for every tier.

nameko runs on eventlet, and under plain pytest nothing patches the standard library:
patch it here, before anything imports socket or threading, and make psycopg green.

Each run is isolated: its own PostgreSQL database and its own RabbitMQ vhost, named
after a random run id, dropped at the end. Two runs on one machine never collide.
Tests make random stream ids instead of truncating tables.
"""

import warnings

# eventlet announces its own deprecation on import; nameko 2.14 has no other hub.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import psycopg  # noqa: E402
import pytest  # noqa: E402

from eventlog import green, migrate  # noqa: E402
from eventlog.store import EventStore  # noqa: E402

green.cooperate()

RUN = uuid.uuid4().hex[:10]
APP_USER = "liuhen_app"


@dataclass(frozen=True)
class Database:
    name: str
    admin: str  # conninfo as the migrating (superuser) role
    app: str  # conninfo as the application role

    def env(self) -> dict:
        """Environment for a `liuhen` subprocess pointed at this database."""
        return {
            **os.environ,
            "LIUHEN_DATABASE_URL": self.admin,
            "LIUHEN_DB_APP_USER": APP_USER,
        }


@pytest.fixture(scope="session")
def database():
    base = os.environ.get("LIUHEN_DATABASE_URL", "postgresql:///liuhen")
    name = f"liuhen_test_{RUN}"
    with migrate.throwaway_database(base, name, APP_USER) as (admin, app):
        yield Database(name, admin, app)


def rabbitmqctl(*args: str) -> None:
    subprocess.run(
        ["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120
    )


@pytest.fixture(scope="session")
def amqp_uri():
    vhost = f"liuhen_test_{RUN}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    try:
        rabbitmqctl("delete_vhost", vhost)
    except subprocess.CalledProcessError as exc:  # leave it rather than fail the run
        print(f"could not delete vhost {vhost}: {exc.stderr!r}", file=sys.stderr)


@pytest.fixture
def conn(database):
    with psycopg.connect(database.app, autocommit=True) as c:
        yield c


@pytest.fixture
def admin_conn(database):
    with psycopg.connect(database.admin, autocommit=True) as c:
        yield c


@pytest.fixture
def store(conn):
    return EventStore(conn)


@pytest.fixture
def nameko_config(database, amqp_uri):
    return {
        "AMQP_URI": amqp_uri,
        "LIUHEN_APP_CONNINFO": database.app,
        "max_workers": 10,
    }


def liuhen(database, *args, timeout: float = 300, **env):
    """The `liuhen` command as an operator runs it, on this run's database."""
    return subprocess.run(
        [sys.executable, "-m", "liuhen", *args],
        env={**database.env(), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for_horizon(conn, tx_id: int, timeout: float = 30.0) -> None:
    """Until readers of the log's commit-safe tail see transaction `tx_id`: any
    write transaction open on the server (another test run's, say) holds it back."""
    deadline = time.monotonic() + timeout
    while not conn.execute(
        "SELECT pg_snapshot_xmin(pg_current_snapshot()) > %s::text::xid8", (str(tx_id),)
    ).fetchone()[0]:
        assert time.monotonic() < deadline, f"transaction {tx_id} stayed ahead"
        time.sleep(0.02)


def new_stream(category: str = "complaint") -> str:
    return f"{category}-{uuid.uuid4().hex[:12]}"
