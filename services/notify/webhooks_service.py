"""Webhook entrypoints, mixed into the notify service (which gives `store`, `clock`,
`log`).

Listens to: every event (`#`), to schedule deliveries for the subscriptions of its
district; RPC from the gateway (subscriptions, deliveries, re-sends); a timer that
sends due deliveries. Emits: Webhook* events on `webhook-<id>` and `delivery-<id>`.

Config (nameko): LIUHEN_WEBHOOK_INTERVAL (sender tick, s), LIUHEN_WEBHOOK_TIMEOUT (per
request, s), LIUHEN_WEBHOOK_BACKOFF_SECONDS (first retry delay, doubling),
LIUHEN_WEBHOOK_MAX_BACKOFF_SECONDS, LIUHEN_WEBHOOK_MAX_ATTEMPTS (then dead-lettered),
LIUHEN_WEBHOOK_BATCH (deliveries per tick), LIUHEN_WEBHOOK_KEY (seals secrets).
"""

import structlog
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc
from nameko.timer import Timer

from eventlog.consumer import first_delivery
from eventlog.entrypoints import subscribe
from eventlog.model import Actor, ConcurrencyError
from eventlog.paging import BadCursor

from . import webhooks, webhooks_sender
from . import webhooks_domain as d
from . import webhooks_read as read
from .webhooks_secrets import Sealer, parse_key

EXPECTED = (d.WebhookError, BadCursor, ConcurrencyError)


class WebhookSettings(DependencyProvider):
    """webhooks_sender.Settings from the nameko config, read once per container."""

    def setup(self):
        c = self.container.config
        self.settings = webhooks_sender.Settings(
            policy=d.Policy(
                max_attempts=int(c.get("LIUHEN_WEBHOOK_MAX_ATTEMPTS") or 10),
                base=float(c.get("LIUHEN_WEBHOOK_BACKOFF_SECONDS") or 30),
                cap=float(c.get("LIUHEN_WEBHOOK_MAX_BACKOFF_SECONDS") or 6 * 3600),
            ),
            timeout=float(c.get("LIUHEN_WEBHOOK_TIMEOUT") or 15),
            batch=int(c.get("LIUHEN_WEBHOOK_BATCH") or 20),
            sealer=Sealer(parse_key(c.get("LIUHEN_WEBHOOK_KEY"))),
        )
        if not self.settings.sealer.sealing:
            structlog.get_logger().warning(
                "LIUHEN_WEBHOOK_KEY is not set: webhook secrets are stored unsealed"
            )

    def get_dependency(self, worker_ctx):
        return self.settings


class SenderTimer(Timer):
    """A timer whose interval comes from LIUHEN_WEBHOOK_INTERVAL."""

    def setup(self):
        configured = self.container.config.get("LIUHEN_WEBHOOK_INTERVAL")
        self.interval = float(configured or self.interval)


class WebhookEntrypoints:
    webhook_settings = WebhookSettings()

    @rpc(expected_exceptions=EXPECTED)
    def webhook_subscribe(self, district, actor, body):
        sid, secret = webhooks.subscribe(
            self.store, self._sealer, district, body, Actor(**actor), self.clock()
        )
        return {**self.webhook(district, sid), "secret": secret}

    @rpc(expected_exceptions=EXPECTED)
    def webhooks(self, district):
        return {"items": read.subscriptions(self.store.conn, district)}

    @rpc(expected_exceptions=EXPECTED)
    def webhook(self, district, subscription_id):
        view = read.subscription(self.store.conn, district, subscription_id)
        if view is None:
            raise d.NotFound(f"no webhook {subscription_id} in district {district}")
        return view

    @rpc(expected_exceptions=EXPECTED)
    def webhook_change(self, district, actor, subscription_id, body):
        secret = webhooks.change(
            self.store,
            self._sealer,
            district,
            subscription_id,
            body,
            Actor(**actor),
            self.clock(),
        )
        view = self.webhook(district, subscription_id)
        return {**view, "secret": secret} if secret else view

    @rpc(expected_exceptions=EXPECTED)
    def webhook_unsubscribe(self, district, actor, subscription_id):
        webhooks.unsubscribe(
            self.store, district, subscription_id, Actor(**actor), self.clock()
        )
        return self.webhook(district, subscription_id)

    @rpc(expected_exceptions=EXPECTED)
    def webhook_deliveries(self, district, subscription_id, query):
        self.webhook(district, subscription_id)  # 404 for another district's
        return read.deliveries(self.store.conn, district, subscription_id, query)

    @rpc(expected_exceptions=EXPECTED)
    def webhook_delivery(self, district, delivery_id):
        view = read.delivery(self.store.conn, district, delivery_id)
        if view is None:
            raise d.NotFound(f"no delivery {delivery_id} in district {district}")
        return {**view, "history": webhooks.history(self.store, delivery_id)}

    @rpc(expected_exceptions=EXPECTED)
    def webhook_resend(self, district, actor, delivery_id):
        webhooks.resend(self.store, district, delivery_id, Actor(**actor), self.clock())
        return self.webhook_delivery(district, delivery_id)

    @subscribe("#")
    def on_event_for_webhooks(self, envelope):
        with self.store.transaction():
            # Most events interest no subscription: those leave no tracking row (a
            # redelivery finds none again; the delivery ids are deterministic anyway).
            subscriptions = webhooks.interested(self.store, envelope)
            if not subscriptions or not first_delivery(
                self.store.conn, "notify.webhooks", envelope["event_id"]
            ):
                return
            made = webhooks.schedule(self.store, envelope, subscriptions, self.clock())
        self.log.info("webhook deliveries scheduled", deliveries=made)

    @SenderTimer.decorator(interval=1)
    def send_webhooks(self):
        counts = webhooks_sender.send_due(
            self.store, self.webhook_settings, self.clock, self.log
        )
        if counts:
            self.log.info("webhooks sent", **counts)

    @property
    def _sealer(self) -> Sealer:
        return self.webhook_settings.sealer
