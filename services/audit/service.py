"""audit: the read side for inspectors and integrators.

Owns: the `digest-<district>` streams (signed digests of each district's log).
Listens to: RPC from the gateway (case timelines, streams at a time, verification,
the catch-up feed, dossiers); a timer that records digests.
Emits: DigestRecorded (`<district>.digest.recorded`).
"""

from nameko.rpc import rpc

from eventlog.model import InvalidEvent
from eventlog.providers import Clock, Logger, Store

from . import feed

EXPECTED = (InvalidEvent,)


class Audit:
    name = "audit"
    store = Store()
    clock = Clock()
    log = Logger()

    @rpc(expected_exceptions=EXPECTED)
    def events(self, district, after=0, limit=100):
        """The catch-up feed: the district's events after `after` (a position)."""
        return feed.page(self.store, district, after, limit)
