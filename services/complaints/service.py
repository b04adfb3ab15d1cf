"""complaints: intake -> dispatch -> reply -> feedback -> close-out.

Owns: the `complaint-<id>` streams and the `complaints` schema (read model, timers,
query codes).
Listens to: RPC from the gateway (receive, act, get, search, track, unit_stats) and
from notify (contact: how to reach the complainant, never routed by the gateway); a
timer that marks overdue complaints and sends deadline reminders.
Emits: Complaint* events into the log (the relay publishes them as
`<district>.complaint.<action>`).
"""

from nameko.rpc import rpc
from nameko.timer import timer

from eventlog.deadlines import UnknownYear
from eventlog.paging import BadCursor
from eventlog.providers import Calendar, Clock, Logger, Store

from . import handlers, views
from .commands import Actor
from .domain import DomainError

EXPECTED = (DomainError, UnknownYear, BadCursor)
SWEEP_SECONDS = 30


class Complaints:
    name = "complaints"
    store = Store()
    clock = Clock()
    calendar = Calendar()
    log = Logger()

    @rpc(expected_exceptions=EXPECTED)
    def receive(self, district, actor, body):
        now = self.clock()
        made = handlers.receive(
            self.store, district, body, Actor(**actor), now, self.calendar
        )
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
    def contact(self, district, complaint_id):
        """Internal, for notify: never routed by the gateway."""
        return views.contact(self.store.conn, district, complaint_id)

    @timer(interval=SWEEP_SECONDS)
    def sweep(self):
        done = handlers.sweep(self.store, self.clock(), self.calendar, self.log)
        if any(done.values()):
            self.log.info("deadlines swept", **done)
