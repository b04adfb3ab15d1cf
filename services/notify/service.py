"""notify: tells people (email, SMS, inbox) and integrators (webhooks) of every step.

People (this module; the webhooks are webhooks_service's):
Owns: the `notification-<id>` streams (one per event, recipient and channel:
NotificationQueued, Sent, Failed, Abandoned, Read), the district settings stream
`notify-<district>` (NotifyRuleSet, NotifyTemplateSet, NotifyOfficeSet), and the
`notify` schema (notifications, outbox, inbox, settings).
Listens to: `*.complaint.*`, `*.issue.*`, `*.case.*`, `*.assessment.*` on
`liuhen.events` (rules.py says which events tell whom); RPC from the gateway (inbox,
rules, templates, office); a timer that sends due emails and SMS (sender.py).
Calls: complaints.reach when planning (how a complainant can be reached, not who
they are) and complaints.contact when sending (the address, never stored, never
published; the complaints service records that read).
Emits: Notification* and Notify* events (`<district>.notification.<action>`,
`<district>.notify.<action>`).
Config: LIUHEN_SMTP_HOST/PORT, LIUHEN_MAIL_FROM (LIUHEN_SMTP_USER/PASSWORD),
LIUHEN_SMS_GATEWAYS, LIUHEN_QUIET_HOURS (channels.py, schedule.py).
"""

from nameko.exceptions import RemoteError
from nameko.rpc import RpcProxy, rpc
from nameko.timer import timer

from eventlog.entrypoints import subscribe
from eventlog.paging import BadCursor
from eventlog.providers import Clock, Logger, Store
from eventlog.transient import TRANSIENT

# The mixin by its module: `nameko run` would take a class imported into this module
# for a second service of its own.
from . import handlers, sender, views, webhooks_service
from .channels import Mailer, QuietHours, SmsGateways

EXPECTED = (handlers.NotFound, handlers.Invalid, BadCursor)


class Notify(webhooks_service.WebhookEntrypoints):
    name = "notify"
    store = Store()
    clock = Clock()
    log = Logger()
    mailer = Mailer()
    sms = SmsGateways()
    quiet = QuietHours()
    # transient: a complainant's identity crosses in these (eventlog/transient.py)
    complaints = RpcProxy("complaints", **TRANSIENT)

    @subscribe("*.complaint.*")
    def on_complaint(self, envelope):
        self._tell_people(envelope)

    @subscribe("*.issue.*")
    def on_issue(self, envelope):
        self._tell_people(envelope)

    @subscribe("*.case.*")
    def on_case(self, envelope):
        self._tell_people(envelope)

    @subscribe("*.assessment.*")
    def on_assessment(self, envelope):
        self._tell_people(envelope)

    def _tell_people(self, envelope):
        found = handlers.matching(
            self.store.conn, envelope["district"], envelope["type"]
        )
        if not found and envelope["type"] not in handlers.REMEMBERED:
            return  # nobody is told of this event in the district
        contact = None
        if any(r.recipient == "complainant" for r in found):
            contact = self._contact(envelope)
        quiet = self.quiet(envelope["district"])
        ids = handlers.queue(self.store, envelope, self.clock(), contact, quiet)
        if ids:
            self.log.info("notifications queued", count=len(ids))

    def _contact(self, envelope):
        ref = envelope["stream_id"].split("-", 1)[1]
        try:
            return self.complaints.reach(envelope["district"], ref)
        except RemoteError as exc:
            if exc.exc_type != "NotFound":
                raise  # the message is requeued and tried again
            return None

    @timer(interval=1)
    def send(self):
        done = sender.send_due(
            self.store,
            self.clock,
            {"email": self.mailer, "sms": self.sms},
            self.complaints.contact,
            self.quiet,
            self.log,
        )
        if any(done.values()):
            self.log.info("notifications sent", **done)

    @rpc(expected_exceptions=EXPECTED)
    def inbox(self, district, viewer, query):
        return views.inbox(self.store.conn, district, viewer, query)

    @rpc(expected_exceptions=EXPECTED)
    def read(self, district, viewer, notification_id):
        audiences = views.audiences(viewer)
        actor = f"{viewer['role']}:{viewer['id']}"
        handlers.mark_read(
            self.store, district, notification_id, audiences, actor, self.clock()
        )
        return views.item(self.store.conn, district, notification_id)

    @rpc(expected_exceptions=EXPECTED)
    def rules(self, district):
        return views.rule_table(self.store.conn, district)

    @rpc(expected_exceptions=EXPECTED)
    def set_rule(self, district, actor, kind, body):
        who = f"{actor['role']}:{actor['id']}"
        handlers.set_rule(
            self.store, district, who, kind, body["channels"], self.clock()
        )
        return views.rule_table(self.store.conn, district)

    @rpc(expected_exceptions=EXPECTED)
    def templates(self, district):
        return views.template_list(self.store.conn, district)

    @rpc(expected_exceptions=EXPECTED)
    def set_template(self, district, actor, kind, body):
        who = f"{actor['role']}:{actor['id']}"
        handlers.set_template(
            self.store, district, who, kind, body["title"], body["body"], self.clock()
        )
        items = views.template_list(self.store.conn, district)["items"]
        return next(t for t in items if t["kind"] == kind)

    @rpc(expected_exceptions=EXPECTED)
    def set_office(self, district, actor, body):
        who = f"{actor['role']}:{actor['id']}"
        handlers.set_office(self.store, district, who, body["people"], self.clock())
        return {"people": views.rule_table(self.store.conn, district)["office"]}
