"""issues: campaigns (专项整治) and rectification issues on their three lists.

Owns: the `campaign-<id>` and `issue-<id>` streams; the `issues` schema (campaigns,
items, timers).
Listens to: RPC from the gateway (campaigns, issues, ledgers, summaries);
`*.complaint.handed_over` (a complaint revealing a systemic problem becomes an
issue in the complaint's correlation); a timer marking overdue issues.
Emits: CampaignLaunched and Issue* events (`<district>.issue.<action>`).
"""

from nameko.rpc import rpc
from nameko.timer import timer

from eventlog.consumer import first_delivery
from eventlog.deadlines import UnknownYear
from eventlog.entrypoints import subscribe
from eventlog.paging import BadCursor
from eventlog.providers import Calendar, Clock, Logger, Store

from . import exports, handlers, views
from .domain import Actor, DomainError

EXPECTED = (DomainError, UnknownYear, BadCursor)


class Issues:
    name = "issues"
    store = Store()
    clock = Clock()
    calendar = Calendar()
    log = Logger()

    @rpc(expected_exceptions=EXPECTED)
    def launch_campaign(self, district, actor, body):
        cid = handlers.launch_campaign(
            self.store, district, body, Actor(**actor), self.clock()
        )
        return views.campaign(self.store.conn, district, cid, self.clock())

    @rpc(expected_exceptions=EXPECTED)
    def campaigns(self, district):
        return {"items": views.campaigns(self.store.conn, district, self.clock())}

    @rpc(expected_exceptions=EXPECTED)
    def campaign(self, district, campaign_id):
        return views.campaign(self.store.conn, district, campaign_id, self.clock())

    @rpc(expected_exceptions=EXPECTED)
    def register(self, district, actor, body):
        issue_id = handlers.register(
            self.store, district, body, Actor(**actor), self.clock(), self.calendar
        )
        return views.get(self.store.conn, district, issue_id, actor)

    @rpc(expected_exceptions=EXPECTED)
    def act(self, district, actor, issue_id, action, body):
        handlers.execute(
            self.store,
            district,
            issue_id,
            action,
            body,
            Actor(**actor),
            self.clock(),
            self.calendar,
        )
        return views.get(self.store.conn, district, issue_id, actor)

    @rpc(expected_exceptions=EXPECTED)
    def get(self, district, issue_id, viewer):
        return views.get(self.store.conn, district, issue_id, viewer)

    @rpc(expected_exceptions=EXPECTED)
    def search(self, district, query, viewer):
        return views.search(self.store.conn, district, query, viewer)

    @rpc(expected_exceptions=EXPECTED)
    def ledger(self, district, campaign_id, query):
        """The file, base64 (RPC bodies are JSON), with its name and type."""
        return exports.ledger_file(self.store.conn, district, campaign_id, query)

    @rpc(expected_exceptions=EXPECTED)
    def summary(self, district, campaign_id, period, fmt="json"):
        data = views.summary(
            self.store.conn, district, campaign_id, period, self.clock()
        )
        return exports.summary_file(data, campaign_id) if fmt == "csv" else data

    @subscribe("*.complaint.handed_over")
    def on_handed_over(self, envelope):
        with self.store.transaction():
            if not first_delivery(
                self.store.conn, "issues.handed_over", envelope["event_id"]
            ):
                return
            try:
                with self.store.transaction():  # a savepoint: the delivery stays
                    issue = handlers.handed_over(
                        self.store, envelope, self.clock(), self.calendar
                    )
            except DomainError as exc:
                # Final, not transient (the unit was removed from the directory
                # since, say): redelivering cannot help. Logged for the operator.
                self.log.error("handover refused", error=str(exc))
                return
            self.log.info("complaint handed over", issue=issue)

    @timer(interval=30)
    def sweep(self):
        marked = handlers.sweep(self.store, self.clock(), self.calendar, self.log)
        if marked:
            self.log.info("issues overdue", marked=marked)
