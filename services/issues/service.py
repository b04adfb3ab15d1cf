"""issues: campaigns (专项整治) and rectification issues on their three lists.

Owns: the `campaign-<id>` and `issue-<id>` streams; the `issues` schema (campaigns,
items, timers).
Listens to: RPC from the gateway (campaigns, issues, ledgers, summaries);
`*.complaint.handed_over` (a complaint revealing a systemic problem becomes an
issue in the complaint's correlation); a timer marking overdue issues.
Emits: CampaignLaunched and Issue* events (`<district>.issue.<action>`).
"""

import base64

from nameko.rpc import rpc
from nameko.timer import timer

from eventlog.consumer import first_delivery
from eventlog.deadlines import UnknownYear
from eventlog.entrypoints import subscribe
from eventlog.providers import Calendar, Clock, Logger, Store

from . import handlers, ledger, views
from .domain import Actor, DomainError

EXPECTED = (DomainError, UnknownYear)


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
        return views.campaign(self.store.conn, district, cid)

    @rpc(expected_exceptions=EXPECTED)
    def campaigns(self, district):
        return {"items": views.campaigns(self.store.conn, district)}

    @rpc(expected_exceptions=EXPECTED)
    def campaign(self, district, campaign_id):
        return views.campaign(self.store.conn, district, campaign_id)

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
        info = views.campaign(self.store.conn, district, campaign_id)
        lists = views.ledger_lists(
            self.store.conn, district, campaign_id, query.get("unit"), query.get("list")
        )
        scope = query.get("unit_name") or info["name"]
        if query.get("format") == "csv":
            kind = query.get("list") or "problem"
            body, ctype, ext = ledger.csv_bytes(kind, lists[kind]), "text/csv", "csv"
        else:
            body, ext = ledger.xlsx(scope, lists), "xlsx"
            ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return {
            "content": base64.b64encode(body).decode(),
            "content_type": ctype,
            "filename": f"ledger-{campaign_id}.{ext}",
        }

    @rpc(expected_exceptions=EXPECTED)
    def summary(self, district, campaign_id, period, fmt="json"):
        data = views.summary(
            self.store.conn, district, campaign_id, period, self.clock()
        )
        if fmt == "csv":
            return {
                "content": base64.b64encode(ledger.summary_csv(data)).decode(),
                "content_type": "text/csv",
                "filename": f"summary-{campaign_id}-{data['period']}.csv",
            }
        return data

    @subscribe("*.complaint.handed_over")
    def on_handed_over(self, envelope):
        with self.store.transaction():
            if first_delivery(
                self.store.conn, "issues.handed_over", envelope["event_id"]
            ):
                issue = handlers.handed_over(
                    self.store, envelope, self.clock(), self.calendar
                )
                self.log.info("complaint handed over", issue=issue)

    @timer(interval=30)
    def sweep(self):
        marked = handlers.sweep(self.store, self.clock(), self.calendar)
        if marked:
            self.log.info("issues overdue", marked=marked)
