"""Webhook subscriptions: state, `decide`, `evolve`. Pure.

subscribed -> changed (URL, filters) / secret rotated ... -> removed. The URL is in
the events (the log is the record) but not in their public payloads (contracts).
"""

from dataclasses import dataclass, replace
from functools import reduce

from contracts import webhooks as contract
from eventlog.model import Actor, NewEvent

from .webhooks_domain import IllegalTransition, Invalid


@dataclass(frozen=True)
class Subscription:
    id: str | None = None
    url: str | None = None
    event_types: tuple[str, ...] = ()
    removed: bool = False


@dataclass(frozen=True)
class Subscribe:
    id: str
    url: str
    event_types: tuple[str, ...]
    by: Actor


@dataclass(frozen=True)
class Change:
    by: Actor
    url: str | None = None
    event_types: tuple[str, ...] | None = None
    rotate_secret: bool = False


@dataclass(frozen=True)
class Unsubscribe:
    by: Actor


def _checked(url, event_types) -> None:
    problem = url and contract.url_problem(url)
    if problem:
        raise Invalid(f"url {url[:80]!r}: {problem}")
    unknown = contract.unknown_filters(event_types or ())
    if unknown:
        raise Invalid(f"unknown event types: {', '.join(unknown)}")


def decide(state: Subscription, cmd, now) -> list[NewEvent]:
    def new(type_, data):
        return NewEvent(type_, data, str(cmd.by), occurred_at=now)

    if isinstance(cmd, Subscribe):
        if state.id:
            raise IllegalTransition(
                f"webhook {state.id} exists; cannot subscribe again"
            )
        _checked(cmd.url, cmd.event_types)
        data = {"url": cmd.url, "event_types": list(cmd.event_types)}
        return [new("WebhookSubscribed", {"subscription_id": cmd.id, **data})]
    if state.removed:
        raise IllegalTransition(f"webhook {state.id} is removed; cannot change it")
    sid = {"subscription_id": state.id}
    if isinstance(cmd, Unsubscribe):
        return [new("WebhookUnsubscribed", sid)]
    _checked(cmd.url, cmd.event_types)
    url = cmd.url or state.url
    types = tuple(cmd.event_types) if cmd.event_types else state.event_types
    events = []
    if (url, types) != (state.url, state.event_types):
        changed = {"url": url, "event_types": list(types)}
        changed["url_changed"] = url != state.url
        events.append(new("WebhookSubscriptionChanged", {**sid, **changed}))
    if cmd.rotate_secret:
        events.append(new("WebhookSecretRotated", sid))
    if not events:
        raise Invalid("nothing to change: give a new url, event_types or rotate_secret")
    return events


def evolve(state: Subscription, event) -> Subscription:
    d = event.data
    if event.type in ("WebhookSubscribed", "WebhookSubscriptionChanged"):
        return replace(
            state,
            id=d["subscription_id"],
            url=d["url"],
            event_types=tuple(d["event_types"]),
        )
    if event.type == "WebhookUnsubscribed":
        return replace(state, removed=True)
    return state


def fold(history) -> Subscription:
    return reduce(evolve, history, Subscription())
