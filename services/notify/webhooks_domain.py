"""Webhook deliveries: state, `decide`, `evolve`, and the errors of webhooks. Pure.

A delivery of one event to one subscription:

    pending -> delivered                    (a 2xx answer)
    pending -> pending                      (failed attempt; next one after a backoff)
    pending -> dead                         (attempts exhausted, 410 Gone, or the
                                             subscription removed meanwhile)
    dead -> pending                         (an admin re-sends it: a fresh budget)

A delivered one is not re-sent: the receiver acknowledged it, and the catch-up feed is
the way to read history again. Every event of a delivery carries the correlation of
the event delivered and names it as the cause, so a case's history shows its webhooks.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from functools import reduce

from eventlog.model import Actor, NewEvent

from .webhooks_signing import next_attempt_at

SYSTEM = Actor("webhooks", "system")


class WebhookError(Exception):
    pass


# Named as the gateway's ERRORS table knows them (by class name, over RPC).
class NotFound(WebhookError):
    pass


class IllegalTransition(WebhookError):
    pass


class Invalid(WebhookError):
    pass


# ---- deliveries --------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    id: str | None = None
    subscription_id: str | None = None
    status: str = "new"  # new, pending, delivered, dead
    attempts: int = 0
    budget_from: int = 0  # attempts made before the last re-send
    correlation_id: str | None = None
    event_id: str | None = None


@dataclass(frozen=True)
class Schedule:
    delivery_id: str
    subscription_id: str
    event_id: str
    event_type: str
    correlation_id: str | None


@dataclass(frozen=True)
class Policy:
    max_attempts: int
    base: float  # seconds
    cap: float  # seconds


@dataclass(frozen=True)
class Outcome:
    """What attempt `attempt` got: an HTTP status, or an error without one."""

    attempt: int
    status: int | None
    error: str | None
    jitter: float  # in [0, 1): the caller's randomness


@dataclass(frozen=True)
class Drop:
    cause: str  # removed: the subscription went away meanwhile


@dataclass(frozen=True)
class Resend:
    by: Actor


def _new(state: Delivery, type_, data, now, actor=SYSTEM) -> NewEvent:
    ids = {"delivery_id": state.id, "subscription_id": state.subscription_id}
    return NewEvent(
        type_,
        {**ids, **data},
        str(actor),
        occurred_at=now,
        correlation_id=state.correlation_id,
        causation_id=state.event_id,
    )


def schedule(state: Delivery, cmd: Schedule, now) -> list[NewEvent]:
    """Nothing when the delivery exists already: one per (event, subscription)."""
    if state.status != "new":
        return []
    state = Delivery(
        cmd.delivery_id,
        cmd.subscription_id,
        correlation_id=cmd.correlation_id,
        event_id=cmd.event_id,
    )
    data = {"event_id": cmd.event_id, "event_type": cmd.event_type}
    return [_new(state, "WebhookDeliveryScheduled", data, now)]


def record(state: Delivery, got: Outcome, now: datetime, policy: Policy):
    """The events of one attempt's outcome; nothing for an outcome already recorded
    (two senders whose leases overlapped: the first one's record stands)."""
    if state.status != "pending" or got.attempt != state.attempts + 1:
        return []
    n = got.attempt
    if got.status is not None and 200 <= got.status < 300:
        ok = {"attempt": n, "status": got.status}
        return [_new(state, "WebhookDelivered", ok, now)]
    gone = got.status == 410  # the receiver says: stop sending (the specification)
    dead = gone or n - state.budget_from >= policy.max_attempts
    nxt = None
    if not dead:
        nxt = next_attempt_at(now, n, policy.base, policy.cap, got.jitter).isoformat()
    error = got.error or f"HTTP {got.status}"
    failed = {"attempt": n, "status": got.status, "error": error[:200]}
    failed["next_attempt_at"] = nxt
    events = [_new(state, "WebhookAttemptFailed", failed, now)]
    if dead:
        cause = "gone" if gone else "exhausted"
        events.append(
            _new(state, "WebhookDeadLettered", {"attempts": n, "cause": cause}, now)
        )
    return events


def drop(state: Delivery, cmd: Drop, now) -> list[NewEvent]:
    if state.status != "pending":
        return []
    data = {"attempts": state.attempts, "cause": cmd.cause}
    return [_new(state, "WebhookDeadLettered", data, now)]


def resend(state: Delivery, cmd: Resend, now) -> list[NewEvent]:
    if state.status == "delivered":
        raise IllegalTransition(
            f"delivery {state.id} was delivered; cannot re-send it (read the event"
            " again from the catch-up feed)"
        )
    if state.status != "dead":
        raise IllegalTransition(
            f"delivery {state.id} is pending; cannot re-send it (it will be sent)"
        )
    return [_new(state, "WebhookResendRequested", {}, now, cmd.by)]


def evolve(state: Delivery, event) -> Delivery:
    d = event.data
    if event.type == "WebhookDeliveryScheduled":
        return Delivery(
            d["delivery_id"],
            d["subscription_id"],
            "pending",
            correlation_id=event.correlation_id,
            event_id=d["event_id"],
        )
    if event.type == "WebhookDelivered":
        return replace(state, status="delivered", attempts=d["attempt"])
    if event.type == "WebhookAttemptFailed":
        return replace(state, attempts=d["attempt"])
    if event.type == "WebhookDeadLettered":
        return replace(state, status="dead")
    if event.type == "WebhookResendRequested":
        return replace(state, status="pending", budget_from=state.attempts)
    return state


def fold(history) -> Delivery:
    return reduce(evolve, history, Delivery())
