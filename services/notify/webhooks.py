"""Webhook handlers: subscriptions, scheduling deliveries of events, re-sends.

Load, fold, decide, append, project (eventlog.handler.handle); the sender is in
webhooks_sender.py. Dependencies are parameters: the store, the secret sealer, `now`.
"""

import hashlib
import json
import secrets

from contracts import webhooks as contract
from eventlog.handler import handle
from eventlog.ids import random_id
from eventlog.model import Actor

from . import webhooks_domain as d
from . import webhooks_read as read
from . import webhooks_subscriptions as subs
from .webhooks_signing import SECRET_BYTES, format_secret


def delivery_id(event_id: str, subscription_id: str) -> str:
    """Deterministic: the same event and subscription give the same delivery, whatever
    the redelivery; the id is the webhook-id header receivers deduplicate on."""
    digest = hashlib.sha256(f"{event_id}|{subscription_id}".encode()).hexdigest()
    return "msg_" + digest[:24]


def _in_district(district, what, key):
    """A fold guard: another district's stream is simply not found here."""

    def guard(history):
        if not history or history[0].district != district:
            raise d.NotFound(f"no {what} {key} in district {district}")
        return history

    return guard


# ---- subscriptions -----------------------------------------------------------------


def subscribe(store, sealer, district, body, by: Actor, now) -> tuple[str, str]:
    """A new subscription; returns (id, secret). The secret is shown only now."""
    sid = random_id("W", now)
    secret = format_secret(secrets.token_bytes(SECRET_BYTES))
    cmd = subs.Subscribe(sid, body["url"], tuple(body["event_types"]), by)

    def project(store, recorded):
        read.apply(store, recorded)
        read.put_secret(store.conn, district, sid, sealer.seal(sid, secret), now)

    handle(
        store,
        f"webhook-{sid}",
        district,
        fold=subs.fold,
        decide=lambda state: subs.decide(state, cmd, now),
        project=project,
    )
    return sid, secret


def change(store, sealer, district, sid, body, by: Actor, now) -> str | None:
    """Changes URL or filters, or rotates the secret (returned, shown once)."""
    cmd = subs.Change(
        by,
        url=body.get("url"),
        event_types=tuple(body["event_types"]) if body.get("event_types") else None,
        rotate_secret=bool(body.get("rotate_secret")),
    )
    secret = format_secret(secrets.token_bytes(SECRET_BYTES))
    guard = _in_district(district, "webhook", sid)

    def project(store, recorded):
        read.apply(store, recorded)
        if any(e.type == "WebhookSecretRotated" for e in recorded):
            read.put_secret(store.conn, district, sid, sealer.seal(sid, secret), now)

    handle(
        store,
        f"webhook-{sid}",
        district,
        fold=lambda history: subs.fold(guard(history)),
        decide=lambda state: subs.decide(state, cmd, now),
        project=project,
    )
    # The old secret stops at once: a receiver verifying with it fails until it has
    # the new one (the specification's overlap, signing with both for a while, is
    # not done yet).
    return secret if cmd.rotate_secret else None


def unsubscribe(store, district, sid, by: Actor, now) -> None:
    guard = _in_district(district, "webhook", sid)
    handle(
        store,
        f"webhook-{sid}",
        district,
        fold=lambda history: subs.fold(guard(history)),
        decide=lambda state: subs.decide(state, subs.Unsubscribe(by), now),
        project=read.apply,
    )


# ---- deliveries --------------------------------------------------------------------


def interested(store, envelope: dict) -> list[dict]:
    """The active subscriptions of the event's district whose filters take it."""
    if envelope["category"] in contract.OWN_CATEGORIES:
        return []  # our own record: delivering it would schedule deliveries of itself
    return [
        sub
        for sub in read.subscriptions(store.conn, envelope["district"], True)
        if contract.matches(sub["event_types"], envelope["type"])
    ]


def schedule(store, envelope: dict, subscriptions, now) -> list[str]:
    """One delivery per subscription, in the consumer's transaction (after
    first_delivery): all of them commit, or none.

    The body is the envelope as the relay published it (contracts.envelope.message:
    the same JSON, compact, UTF-8), so what integrators get by webhook is what they
    would get over AMQP, and it stays byte for byte the same across retries."""
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    made = []
    for sub in subscriptions:
        cmd = d.Schedule(
            delivery_id(envelope["event_id"], sub["id"]),
            sub["id"],
            envelope["event_id"],
            envelope["type"],
            envelope.get("correlation_id"),
        )
        recorded = handle(
            store,
            f"delivery-{cmd.delivery_id}",
            envelope["district"],
            fold=d.fold,
            decide=lambda state, cmd=cmd: d.schedule(state, cmd, now),
            project=lambda store, recorded: read.apply(store, recorded, body),
        )
        made += [cmd.delivery_id] if recorded else []
    return made


def resend(store, district, did, by: Actor, now) -> None:
    """A dead-lettered delivery becomes due now, with a fresh budget of attempts."""
    guard = _in_district(district, "delivery", did)
    handle(
        store,
        f"delivery-{did}",
        district,
        fold=lambda history: d.fold(guard(history)),
        decide=lambda state: d.resend(state, d.Resend(by), now),
        project=read.apply,
    )


def history(store, did) -> list[dict]:
    return [
        {
            "version": e.stream_version,
            "type": e.type,
            "data": e.data,
            "actor": e.actor,
            "at": e.occurred_at.isoformat(),
        }
        for e in store.read_stream(f"delivery-{did}")
    ]
