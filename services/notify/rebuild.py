"""The notify read models, as `liuhen projections rebuild` sees them.

- notify: notifications, inbox and the district settings, from the
  `notification-<id>` and `notify-<district>` streams. The outbox is kept: it is
  the senders' queue, and a sender that claimed a row moved its due time a lease
  ahead without an event; rebuilt, a row being sent would look due again and go
  twice. It is written with the events, so it stays in step with them.
- notify-units: the unit of each issue and complaint, which the people consumer
  remembers from IssueRegistered and ComplaintDispatched for the later events of the
  stream that do not name it. Folded from what that consumer applied
  (eventlog/rebuild.py says why), through its own function.
- webhooks: the subscriptions, from the `webhook-<id>` streams. Kept: the signing
  secrets (in no event, by design: they cannot be rebuilt), the deliveries (each
  holds the body as it was sent, which the log does not hold: it names the event,
  and the event's public form depends on the contracts of the day) and their queue
  (the sender's leases, as for the outbox).
"""

from eventlog.rebuild import Projection, per_event, published

from . import handlers, projections, webhooks_read

LEASES = "the senders' queue: claimed rows carry a lease that no event records"


def project_notify(store, event) -> None:
    projections.read_model(store.conn, event)


REBUILD = Projection(
    name="notify",
    about="notifications, inbox, rules, templates, campaign offices",
    tables=(
        "notify.notifications",
        "notify.inbox",
        "notify.rules",
        "notify.templates",
        "notify.offices",
    ),
    categories=frozenset({"notification", "notify"}),
    project=project_notify,
    kept=(("notify.outbox", LEASES),),
)


def project_unit(store, event, applied_at) -> None:
    handlers._remember_unit(store.conn, published(event))


UNITS = Projection(
    name="notify-units",
    about="the unit of each issue and complaint, for events that do not name it",
    tables=("notify.units_of",),
    categories=frozenset({"complaint", "issue"}),
    types=handlers.REMEMBERED,
    consumer=handlers.CONSUMER,
    project=project_unit,
    kept=(
        (
            "eventlog.processed",
            "the consumer's tracking rows: what the rebuild folds",
        ),
    ),
)


WEBHOOKS = Projection(
    name="webhooks",
    about="webhook subscriptions",
    tables=("notify.webhook_subscriptions",),
    categories=frozenset({"webhook"}),
    types=frozenset({"WebhookSubscribed", *webhooks_read.SUBSCRIPTION_SETS}),
    project=per_event(webhooks_read.apply),
    kept=(
        ("notify.webhook_secrets", "the signing secrets are in no event, by design"),
        (
            "notify.webhook_deliveries",
            "each holds the body as sent, which the log does not hold",
        ),
        ("notify.webhook_due", LEASES),
    ),
)
