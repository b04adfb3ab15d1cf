"""The sender: emails and SMS whose time has come, from the outbox, each recorded.

Concurrency: any number of instances run this timer. Each takes one outbox row at a
time with `FOR UPDATE SKIP LOCKED` and keeps the lock until the outcome (Sent,
Failed with its retry time, or Abandoned) is committed with the row's update: two
senders never take the same notification, and neither waits on the other. The lock
is held across the SMTP or HTTP call, on purpose: releasing it before the call would
let a second sender send the same message meanwhile. If a sender dies after the
server accepted the message but before its commit, the row is unlocked and sent
again: no protocol here can make that window zero (SMTP has no idempotency key), so
it is kept to the length of one send.

Addresses are looked up now, not stored: the complainant's from the complaints
service (an RPC), a person's from the directory. The complainant's name joins the
rendering context only here, and only for a complainant's own notification.
"""

from datetime import timedelta

from eventlog.handler import handle
from eventlog.model import NewEvent

from . import handlers, projections, schedule, settings
from .channels import DeliveryError

BATCH = 50
POSTPONE = timedelta(minutes=5)
CLAIM = (
    "SELECT notification_id, district FROM notify.outbox WHERE due_at <= %s"
    " ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED"
)
ROW = (
    "SELECT kind, recipient, channel, context, attempts, status, correlation_id,"
    " source_event_id FROM notify.notifications WHERE id = %s"
)


class Permanent(DeliveryError):
    """Retrying cannot help (no address): abandoned at once."""


def send_due(store, now, channels, contact_of, quiet_of, log=None) -> dict:
    """Send what is due at `now`; counts by outcome. `channels` maps email/sms to
    their send functions; `quiet_of(district)` gives its quiet hours."""
    done = {"sent": 0, "failed": 0, "abandoned": 0, "held": 0, "postponed": 0}
    for _ in range(BATCH):
        row = None
        try:
            with store.transaction():
                row = store.conn.execute(CLAIM, (now,)).fetchone()
                if row is None:
                    break
                outcome = _send_one(store, *row, now, channels, contact_of, quiet_of)
        except Exception as exc:  # a bug, not the channel's failure
            if row is None:
                raise  # the database itself: the next tick tries again
            outcome = "postponed"
            _postpone(store, row[0], now)
            if log is not None:
                log.error(
                    "notification not sent", notification_id=row[0], error=str(exc)
                )
        done[outcome] += 1
        if log is not None and outcome != "sent":
            log.info("notification " + outcome, notification_id=row[0])
    return done


def _postpone(store, nid, now) -> None:
    """Out of the way for a while: the outbox is taken in due order, so a row that
    fails this way would otherwise stand first and block every send behind it."""
    store.conn.execute(
        "UPDATE notify.outbox SET due_at = %s WHERE notification_id = %s",
        (now + POSTPONE, nid),
    )


def _send_one(store, nid, district, now, channels, contact_of, quiet_of) -> str:
    conn = store.conn
    conn.execute("SELECT set_config('liuhen.district', %s, true)", (district,))
    kind, recipient, channel, ctx, attempts, status, corr, cause = conn.execute(
        ROW, (nid,)
    ).fetchone()
    quiet = quiet_of(district)
    held = schedule.release(now, channel, quiet)
    if held > now:  # due just before quiet hours began: wait for their end
        conn.execute(
            "UPDATE notify.outbox SET due_at = %s WHERE notification_id = %s",
            (held, nid),
        )
        return "held"
    attempt = attempts + 1
    try:
        address, extra = _address(conn, district, recipient, channel, ctx, contact_of)
        title, body, _ = settings.template(conn, kind)
        title, body = handlers._render(kind, title, body, {**ctx, **extra})
        if channel == "email":
            channels["email"](address, title, body)
        else:
            channels["sms"](district, address, body)
        outcome, event = "sent", ("NotificationSent", {"attempt": attempt})
    except DeliveryError as exc:
        retry = None if isinstance(exc, Permanent) else schedule.retry_at(now, attempt)
        if retry is None:
            data = {"attempts": attempt, "error": exc.code}
            outcome, event = "abandoned", ("NotificationAbandoned", data)
        else:
            retry = schedule.release(retry, channel, quiet)
            data = {"attempt": attempt, "error": exc.code}
            data["retry_at"] = retry.isoformat()
            outcome, event = "failed", ("NotificationFailed", data)
    recorded = NewEvent(
        event[0],
        {"channel": channel, **event[1]},
        actor=handlers.SYSTEM,
        occurred_at=now,
        correlation_id=corr,
        causation_id=str(cause),
    )
    handle(
        store,
        f"notification-{nid}",
        district,
        fold=bool,
        decide=lambda _: [recorded],
        project=projections.apply,
    )
    return outcome


def _address(conn, district, recipient, channel, ctx, contact_of) -> tuple[str, dict]:
    """(address, extra context) of a recipient, looked up now."""
    field = "email" if channel == "email" else "phone"
    if recipient == "complainant":
        try:
            contact = contact_of(district, ctx["ref"])
        except Exception as exc:  # the complaints service is down: try later
            raise DeliveryError(f"contact lookup {type(exc).__name__}") from None
        if contact.get("anonymous") or not contact.get(field):
            raise Permanent("no address")
        return contact[field], {"complainant_name": contact.get("name")}
    kind, _, who = recipient.partition(":")
    row = conn.execute(
        f"SELECT {field} FROM directory.people WHERE id = %s", (who,)
    ).fetchone()
    if kind != "person" or row is None or not row[0]:
        raise Permanent("no address")
    return row[0], {}
