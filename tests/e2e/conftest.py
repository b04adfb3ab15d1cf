"""The platform in this process: the complaints service and the gateway as nameko
containers on the test database and vhost, the relay in a thread, the shipped demo
districts loaded, and one bearer token per role.

Only the clock is replaced (nameko's replace_dependencies): deadlines are computed on
the real official calendar, at times the tests choose.
"""

import socket
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
import requests
from nameko.containers import ServiceContainer
from nameko.testing.services import replace_dependencies

from eventlog.deadlines import TZ
from eventlog.digests import new_key
from eventlog.store import EventStore
from services.accountability.service import Accountability
from services.audit.service import Audit
from services.complaints.service import Complaints
from services.directory.load import load
from services.gateway.auth import issue
from services.gateway.service import Gateway
from services.issues.service import Issues
from services.notify.service import Notify
from tests.e2e.local_servers import sms_server, smtp_server
from tests.integration.relay_helpers import running_relay

DISTRICTS = Path(__file__).resolve().parents[2] / "deploy" / "districts"
AUTH_FAILURES = 10  # LIUHEN_AUTH_FAILURES of the platform's gateway
PII_KEY = "bGl1aGVuLXRlc3QtcGlpLW1hc3Rlci1rZXktMzJieXQ="


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """HTTP as a client sees it, with one token per (district, role, unit)."""

    def __init__(self, base: str, store: EventStore):
        self.base, self.store, self.tokens = base, store, {}

    def token(self, role, district="binhai", unit=None) -> str:
        key = (district, role, unit)
        if key not in self.tokens:
            self.tokens[key] = issue(self.store, district, role, unit=unit)[1]
        return self.tokens[key]

    def call(self, method, path, role=None, district="binhai", unit=None, **kw):
        headers = kw.pop("headers", {})
        if role:
            headers["Authorization"] = f"Bearer {self.token(role, district, unit)}"
        if role == "city":  # a city token acts where the request says
            headers.setdefault("X-Liuhen-District", district)
        return requests.request(
            method, self.base + path, headers=headers, timeout=30, **kw
        )

    def get(self, path, role=None, **kw):
        return self.call("GET", path, role, **kw)

    def post(self, path, role=None, **kw):
        return self.call("POST", path, role, **kw)


@pytest.fixture(scope="session")
def directory(database):
    with psycopg.connect(database.app, autocommit=True) as conn:
        for path in sorted(DISTRICTS.glob("*.yml")):
            load(EventStore(conn), path, actor="test:setup")


@pytest.fixture(scope="package")
def mailbox(tmp_path_factory):
    """The local SMTP server notify sends email to (tests/e2e/local_servers.py)."""
    with smtp_server(tmp_path_factory.mktemp("mailbox"), free_port()) as box:
        yield box


@pytest.fixture(scope="package")
def sms_gateway():
    """The local HTTP SMS gateway notify posts to, one URL per district."""
    with sms_server() as gateway:
        yield gateway


@pytest.fixture(scope="package")
def digest_key(tmp_path_factory):
    """The operator's digest signing key, as `liuhen digest keygen` writes it."""
    path = tmp_path_factory.mktemp("keys") / "digest.pem"
    new_key(path)
    return path


# Package scope: the services stop when the e2e tests are done, before the tests that
# restart the broker or count what a relay publishes.
@pytest.fixture(scope="package")
def platform(database, amqp_uri, directory, mailbox, sms_gateway, digest_key):
    port = free_port()
    config = {
        "AMQP_URI": amqp_uri,
        "LIUHEN_APP_CONNINFO": database.app,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
        "max_workers": 10,
        # Notify: the local SMTP server and SMS gateway (tests/e2e/local_servers.py).
        "LIUHEN_SMTP_HOST": "127.0.0.1",
        "LIUHEN_SMTP_PORT": mailbox.port,
        "LIUHEN_MAIL_FROM": "liuhen@test.example",
        "LIUHEN_SMS_GATEWAYS": {
            "binhai": f"{sms_gateway.url}/binhai",
            "jinghai": f"{sms_gateway.url}/jinghai",
        },
        # Webhooks: a fast sender, short retries, a sealing key (tests/e2e/
        # test_webhooks.py moves the clock past each backoff).
        "LIUHEN_WEBHOOK_INTERVAL": 0.1,
        "LIUHEN_WEBHOOK_TIMEOUT": 2,
        "LIUHEN_WEBHOOK_BACKOFF_SECONDS": 1,
        "LIUHEN_WEBHOOK_MAX_ATTEMPTS": 3,
        "LIUHEN_WEBHOOK_KEY": "bGl1aGVuLXRlc3Qtd2ViaG9vay1rZXktMzItYnl0ZXM=",
        # Audit: the digest signing key (tests record digests by RPC or the CLI).
        "LIUHEN_DIGEST_KEY": str(digest_key),
        # Gateway: failed authentications (guesses: malformed tokens, unknown ids,
        # wrong secrets, as bearer tokens or Open311 api_keys) per client address
        # before 429. Tests talk from 127.0.0.1, and a few guess from there on
        # purpose (test_gateway.py's bad tokens, test_open311_http.py's bad
        # api_key): a handful, well under the limit. Requests without a token and
        # expired or revoked tokens are not counted. test_tokens_http.py makes
        # every failure of its own from an address of its own (127.x.y.z).
        "LIUHEN_AUTH_FAILURES": AUTH_FAILURES,
        "LIUHEN_AUTH_WINDOW": 60,
        # Complaints: the master key of complainants' identities (pii.py).
        "LIUHEN_PII_KEY": PII_KEY,
    }
    clock = Clock(datetime(2026, 9, 14, 9, 0, tzinfo=TZ))
    containers = []
    for cls in (Complaints, Issues, Accountability, Notify, Audit, Gateway):
        container = ServiceContainer(cls, config)
        if cls is not Gateway:
            replace_dependencies(container, clock=clock)
        containers.append(container)
    with (
        running_relay(database, amqp_uri),
        psycopg.connect(database.app, autocommit=True) as conn,
    ):
        for container in containers:
            container.start()
        try:
            api = Api(f"http://127.0.0.1:{port}", EventStore(conn))
            api.clock = clock
            api.mailbox, api.sms = mailbox, sms_gateway
            yield api
        finally:
            # Callers first: a worker of notify waiting on a complaints RPC would
            # wait for ever for a reply from a complaints container already stopped.
            for container in reversed(containers):
                container.stop()
