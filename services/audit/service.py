"""audit: the read side for inspectors and integrators.

Owns: the `digest-<district>` streams (signed digests of each district's log).
Listens to: RPC from the gateway (case timelines, streams at a time, verification,
the catch-up feed, dossiers); a timer that records digests.
Emits: DigestRecorded (`<district>.digest.recorded`).
"""

from datetime import datetime

import structlog
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc
from nameko.timer import Timer

from eventlog import digests as signing
from eventlog import integrity
from eventlog.model import InvalidEvent
from eventlog.providers import Clock, Logger, Store

from . import digests, dossier, feed, views

EXPECTED = (InvalidEvent, views.NotFound)
DIGEST_INTERVAL = 3600.0


class DigestKeys(DependencyProvider):
    """The operator's signing key (LIUHEN_DIGEST_KEY, a PEM file), what it last
    signed (LIUHEN_DIGEST_MEMORY, default `<key>.signed.json`: services/audit/
    digests.py), and the public keys digests are checked with (its own and
    LIUHEN_DIGEST_PUBLIC_KEYS, comma-separated base64). Without a signing key no
    digests are recorded, and the log says so."""

    def setup(self):
        config = self.container.config
        path = config.get("LIUHEN_DIGEST_KEY") or None
        public = str(config.get("LIUHEN_DIGEST_PUBLIC_KEYS") or "").split(",")
        self.signing = signing.load_private(path) if path else None
        remembered = config.get("LIUHEN_DIGEST_MEMORY") or (
            f"{path}.signed.json" if path else None
        )
        self.memory = digests.Memory(remembered)
        self.trusted = signing.trusted_keys(path, public)
        if self.signing is None:
            structlog.get_logger().warning(
                "no LIUHEN_DIGEST_KEY: the audit service records no digests"
            )

    def get_dependency(self, worker_ctx):
        return self


class DigestTimer(Timer):
    """Every LIUHEN_DIGEST_INTERVAL seconds (default an hour)."""

    def setup(self):
        configured = self.container.config.get("LIUHEN_DIGEST_INTERVAL")
        self.interval = float(configured or self.interval)


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Audit:
    name = "audit"
    store = Store()
    clock = Clock()
    log = Logger()
    keys = DigestKeys()

    @rpc(expected_exceptions=EXPECTED)
    def case(self, district, ref, at=None):
        """The timeline of the case `ref` (any of its stream or bare ids) belongs
        to; with `at` (ISO time), only what was recorded by then."""
        return views.case(self.store.conn, district, ref, _time(at))

    @rpc(expected_exceptions=EXPECTED)
    def dossier(self, district, ref, at=None):
        """The case's timeline as a printable HTML file."""
        found = views.case(self.store.conn, district, ref, _time(at))
        return dossier.render(found, self.clock())

    @rpc(expected_exceptions=EXPECTED)
    def stream(self, district, stream_id, at=None, version=None):
        return views.stream(self.store.conn, district, stream_id, _time(at), version)

    @rpc(expected_exceptions=EXPECTED)
    def verify(self, district):
        """The integrity report `liuhen verify --district D --json` prints."""
        return integrity.report(
            self.store.conn, district=district, keys=self.keys.trusted
        )

    @rpc
    def record_digests(self):
        """Sign and record each district's digest now (the timer's work)."""
        if self.keys.signing is None:
            return []
        made, refused = digests.record_all(
            self.store, self.keys.signing, self.keys.memory
        )
        for district, reason in refused.items():
            self.log.error("digest refused", district=district, reason=reason)
        for d in made:
            self.log.info(
                "digest recorded",
                district=d.district,
                head=d.head_position,
                count=d.count,
            )
        return [d.data() for d in made]

    @DigestTimer.decorator(interval=DIGEST_INTERVAL)
    def digest_timer(self):
        self.record_digests()

    @rpc(expected_exceptions=(*EXPECTED, feed.UnknownPosition))
    def events(self, district, after=0, limit=100):
        """The catch-up feed: the district's events after `after` (a position),
        `{"events", "after", "more"}` (contracts/feed.py FeedPage)."""
        return feed.page(self.store, district, after, limit)
