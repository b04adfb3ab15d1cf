"""Webhooks for integrators: the public event payloads and HTTP bodies (issue 6).

A subscription lives on `webhook-<id>`, each delivery of one event to one subscription
on `delivery-<id>`. Published payloads name subscriptions and deliveries, attempts and
HTTP statuses; never a signing secret, never a receiver's response body, and never the
receiver's URL: every integrator of a district may read these events, and one
integrator's endpoint (often with a token in its query string) is not for another.
"""

import re
from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate

from .complaints import Text, _text
from .registry import REGISTRY

SERVICE = "notify"
SUBSCRIPTION_ID = re.compile(r"^W-[0-9]{4}-[0-9A-Z]{8}\Z")  # W-2026-7K3M9QXA
# The webhook-id header too: constant across retries, so receivers deduplicate.
DELIVERY_ID = re.compile(r"^msg_[0-9a-f]{24}\Z")
# Streams of these categories are the webhooks' own record: never delivered by webhook
# (each delivery would schedule deliveries of itself, without end).
OWN_CATEGORIES = frozenset({"webhook", "delivery"})
DELIVERY_STATUSES = ("pending", "delivered", "dead")
MAX_URL = 2000


OWN_TYPES: set[str] = set()  # filled below: the webhooks' own event types


def _event(type_):
    OWN_TYPES.add(type_)
    return REGISTRY.register(type_, 1, service=SERVICE)


class _Subscription(Schema):
    subscription_id = Text(required=True)


@_event("WebhookSubscribed")
class WebhookSubscribedV1(_Subscription):
    event_types = fields.List(Text(), required=True)


@_event("WebhookSubscriptionChanged")
class WebhookSubscriptionChangedV1(_Subscription):
    event_types = fields.List(Text(), required=True)
    url_changed = fields.Boolean(required=True)


_event("WebhookSecretRotated")(type("WebhookSecretRotatedV1", (_Subscription,), {}))
_event("WebhookUnsubscribed")(type("WebhookUnsubscribedV1", (_Subscription,), {}))


class _Delivery(Schema):
    delivery_id = Text(required=True)
    subscription_id = Text(required=True)


@_event("WebhookDeliveryScheduled")
class WebhookDeliveryScheduledV1(_Delivery):
    event_id = Text(required=True)
    event_type = Text(required=True)


@_event("WebhookDelivered")
class WebhookDeliveredV1(_Delivery):
    attempt = fields.Integer(required=True)
    status = fields.Integer(required=True)


@_event("WebhookAttemptFailed")
class WebhookAttemptFailedV1(_Delivery):
    attempt = fields.Integer(required=True)
    status = fields.Integer(allow_none=True, metadata={"description": "HTTP status"})
    error = Text(
        allow_none=True, metadata={"description": "timeout, connection, or HTTP nnn"}
    )
    next_attempt_at = Text(
        allow_none=True, metadata={"description": "null when dead-lettered"}
    )


@_event("WebhookDeadLettered")
class WebhookDeadLetteredV1(_Delivery):
    attempts = fields.Integer(required=True)
    cause = Text(required=True, metadata={"description": "exhausted, gone, removed"})


_event("WebhookResendRequested")(type("WebhookResendRequestedV1", (_Delivery,), {}))


# ---- filters -----------------------------------------------------------------------


def deliverable_types() -> set[str]:
    """Every registered type but the webhooks' own (read when asked: the registry is
    complete once `contracts` is imported)."""
    return set(REGISTRY.owners) - OWN_TYPES


def groups() -> set[str]:
    """`complaints.*`: every type a service registers, now or later; `*`: all."""
    return {f"{service}.*" for service in REGISTRY.owners.values()} | {"*"}


def unknown_filters(event_types) -> list[str]:
    known = deliverable_types() | groups()
    return sorted({t for t in event_types if t not in known})


def matches(filters, event_type: str) -> bool:
    owner = REGISTRY.owners.get(event_type)
    return (
        "*" in filters
        or event_type in filters
        or (owner is not None and f"{owner}.*" in filters)
    )


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook endpoint, or None."""
    if len(url) > MAX_URL:
        return f"at most {MAX_URL} characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError as exc:
        return f"not a URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return "the scheme must be https or http"
    if not parts.hostname:
        return "a host is needed"
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs and proxies; the signature already
        # proves who sends.
        return "no credentials in the URL (the signature authenticates us)"
    if parts.fragment or any(ch.isspace() for ch in url):
        return "no fragment and no spaces"
    return None


def _check_url(url: str) -> None:
    problem = url_problem(url)
    if problem:
        raise ValidationError(problem)


def _check_types(event_types) -> None:
    unknown = unknown_filters(event_types)
    if unknown:
        raise ValidationError(
            f"unknown event types: {', '.join(unknown)}; give registered types"
            " (ComplaintDispatched), a service's group (complaints.*) or *"
        )


# ---- HTTP bodies -------------------------------------------------------------------

_URL = dict(validate=_check_url, metadata={"description": "https or http, no userinfo"})
_TYPES = dict(
    validate=[validate.Length(min=1, max=200), _check_types],
    metadata={"description": "event types, `<service>.*` groups, or `*`"},
)


class NewWebhook(Schema):
    url = Text(required=True, **_URL)
    event_types = fields.List(_text(100), required=True, **_TYPES)


class WebhookChange(Schema):
    url = Text(**_URL)
    event_types = fields.List(_text(100), **_TYPES)
    rotate_secret = fields.Boolean(
        load_default=False,
        metadata={"description": "a new secret, shown once in the answer"},
    )


class DeliveryQuery(Schema):
    status = Text(validate=validate.OneOf(DELIVERY_STATUSES))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    after = Text(validate=validate.Length(max=200))


class WebhookView(Schema):
    id = Text()
    district = Text()
    url = Text()
    event_types = fields.List(Text())
    status = Text(metadata={"description": "active or removed"})
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    secret = Text(
        metadata={
            "description": "whsec_<base64>: only in the answer that made it "
            "(creation, rotation); never shown again"
        }
    )


class WebhookList(Schema):
    items = fields.List(fields.Nested(WebhookView))


class DeliveryStep(Schema):
    version = fields.Integer()
    type = Text()
    data = fields.Dict()
    actor = Text()
    at = fields.AwareDateTime()


class DeliveryView(Schema):
    id = Text(metadata={"description": "the webhook-id header"})
    subscription_id = Text()
    event_id = Text()
    event_type = Text()
    status = Text(validate=validate.OneOf(DELIVERY_STATUSES))
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    last_status = fields.Integer(allow_none=True)
    last_error = Text(allow_none=True)
    created_at = fields.AwareDateTime()
    delivered_at = fields.AwareDateTime(allow_none=True)
    history = fields.List(fields.Nested(DeliveryStep))


class DeliveryPage(Schema):
    items = fields.List(fields.Nested(DeliveryView))
    next = Text(allow_none=True)
