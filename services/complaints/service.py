"""complaints: intake -> dispatch -> reply -> feedback -> close-out.

Owns: the `complaint-<id>` and `complainant-<ref>` streams and the `complaints`
schema (read model, timers, query codes, complainants' data keys).
Listens to: RPC from the gateway (receive, act, get, search, track, unit_stats,
complainant: an identity read on record) and from notify (reach and contact: how to
reach the complainant, never routed by the gateway); a timer that marks overdue
complaints and sends deadline reminders.
Emits: Complaint* events into the log (the relay publishes them as
`<district>.complaint.<action>`); ComplainantIdentityRead and ComplainantErased
(`<district>.complainant.<action>`).
Config: LIUHEN_PII_KEY, the master key of complainants' identities (providers.py).
"""

from nameko.timer import timer

from eventlog.deadlines import UnknownYear
from eventlog.paging import BadCursor
from eventlog.providers import Calendar, Clock, Logger, Store
from eventlog.transient import rpc  # replies carry identities: never on disk

from . import handlers, identity, pii, views
from .commands import Actor
from .domain import DomainError
from .providers import PiiKeyring

# pii.Unreadable: the identity does not open with the configured LIUHEN_PII_KEY, an
# operator's matter, which the gateway answers 503 `unavailable` (web.py ERRORS).
EXPECTED = (DomainError, UnknownYear, BadCursor, pii.Unreadable)
SWEEP_SECONDS = 30


class Complaints:
    name = "complaints"
    store = Store()
    clock = Clock()
    calendar = Calendar()
    log = Logger()
    pii = PiiKeyring()

    @rpc(expected_exceptions=EXPECTED)
    def receive(self, district, actor, body):
        now = self.clock()
        made = handlers.receive(
            self.store, district, body, Actor(**actor), now, self.calendar, self.pii
        )
        if made.get("sealed"):  # recorded at the level above: nothing to show here
            self.log.info("complaint sealed", district=made["forwarded_to"])
            return made
        self.log.info("complaint received", district=district, complaint=made["id"])
        return {**made, "complaint": self.get(district, made["id"], actor)}

    @rpc(expected_exceptions=EXPECTED)
    def act(self, district, actor, complaint_id, action, body):
        handlers.execute(
            self.store,
            district,
            complaint_id,
            action,
            body,
            Actor(**actor),
            self.clock(),
            self.calendar,
        )
        return self.get(district, complaint_id, actor)

    @rpc(expected_exceptions=EXPECTED)
    def get(self, district, complaint_id, viewer):
        return views.get(self.store.conn, district, complaint_id, viewer)

    @rpc(expected_exceptions=EXPECTED)
    def search(self, district, query, viewer):
        return views.search(self.store.conn, district, query, viewer)

    @rpc(expected_exceptions=EXPECTED)
    def track(self, code):
        return views.track(self.store.conn, code)

    @rpc(expected_exceptions=EXPECTED)
    def unit_stats(self, district):
        return views.unit_stats(self.store.conn, district)

    @rpc(expected_exceptions=EXPECTED)
    def complainant(self, district, complaint_id, viewer, reason):
        """Who complained, for intake and inspection: the read is recorded first."""
        views.get(self.store.conn, district, complaint_id, viewer)  # may they see it
        if viewer["role"] not in views.SEES_COMPLAINANT:
            raise handlers.NotFound(f"no complainant of {complaint_id} for this role")
        by, now = str(Actor(**viewer)), self.clock()
        return identity.read(
            self.store, district, complaint_id, by, reason, self.pii, now
        )

    @rpc(expected_exceptions=EXPECTED)
    def reach(self, district, complaint_id):
        """Internal, for notify's planning: how to reach them, not who they are."""
        return identity.reach(self.store.conn, district, complaint_id)

    @rpc(expected_exceptions=EXPECTED)
    def contact(self, district, complaint_id, reason):
        """Internal, for notify's send (never routed by the gateway): the read is
        recorded as system:notify, `reason` naming the notification."""
        return identity.contact(
            self.store, district, complaint_id, reason, self.pii, self.clock()
        )

    @timer(interval=SWEEP_SECONDS)
    def sweep(self):
        done = handlers.sweep(self.store, self.clock(), self.calendar, self.log)
        if any(done.values()):
            self.log.info("deadlines swept", **done)
