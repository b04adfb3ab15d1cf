"""Notifications to people (email, SMS, inbox): public event payloads and HTTP bodies.

A notification is the stream `notification-<id>`, the id derived from (source event,
recipient, channel), so a redelivered event finds it. Its events say who was told
what, when and how, and carry the source's correlation id, so a complaint's or case's
history shows them. A recipient is named by role, never by address: `complainant`,
`person:<directory id>`, `unit:<code>`, `role:<role>`. No event holds a complainant's
name, phone or email, nor an error text that could echo an address.

The district's settings (`notify-<district>`): which channels each kind of
notification uses, the kind's template, the campaign office's people.
"""

import re

from marshmallow import Schema, fields, validate

from .complaints import Text, _text
from .registry import REGISTRY

SERVICE = "notify"
NOTIFICATION_ID = re.compile(r"^N-[0-9a-f]{24}\Z")
CHANNELS = ("email", "sms", "inbox")
# `contact`: the complainant's own way in (phone -> SMS, email -> email)
RULE_CHANNELS = (*CHANNELS, "contact")
KIND = re.compile(r"^[a-z_]{1,60}\.[a-z_]{1,20}\Z")
PERSON = validate.Regexp(r"^[a-z0-9-]{1,64}\Z")


def _event(type_):
    return REGISTRY.register(type_, 1, service=SERVICE)


@_event("NotificationQueued")
class NotificationQueuedV1(Schema):
    notification_id = Text(required=True)
    kind = Text(required=True)
    recipient = Text(
        required=True, metadata={"description": "complainant | person:id | unit:code"}
    )
    channel = Text(required=True, validate=validate.OneOf(CHANNELS))
    source_event_id = Text(required=True)
    source_type = Text(required=True)
    source_stream = Text(required=True)
    due_at = Text(required=True, metadata={"description": "later in quiet hours"})


@_event("NotificationSent")
class NotificationSentV1(Schema):
    channel = Text(required=True)
    attempt = fields.Integer(required=True)


@_event("NotificationFailed")
class NotificationFailedV1(Schema):
    channel = Text(required=True)
    attempt = fields.Integer(required=True)
    error = Text(required=True, metadata={"description": "a class, never an address"})
    retry_at = Text(required=True)


@_event("NotificationAbandoned")
class NotificationAbandonedV1(Schema):
    channel = Text(required=True)
    attempts = fields.Integer(required=True)
    error = Text(required=True)


@_event("NotificationRead")
class NotificationReadV1(Schema):
    pass


@_event("NotifyRuleSet")
class NotifyRuleSetV1(Schema):
    kind = Text(required=True)
    channels = fields.List(Text(), required=True)


@_event("NotifyTemplateSet")
class NotifyTemplateSetV1(Schema):
    kind = Text(required=True)
    title = Text(required=True)
    body = Text(required=True)


@_event("NotifyOfficeSet")
class NotifyOfficeSetV1(Schema):
    people = fields.List(Text(), required=True)


# ---- HTTP bodies ---------------------------------------------------------------------


class RuleBody(Schema):
    channels = fields.List(
        Text(validate=validate.OneOf(RULE_CHANNELS)),
        required=True,
        validate=validate.Length(max=4),
        metadata={"description": "empty: this kind is not sent in the district"},
    )


class TemplateBody(Schema):
    title = _text(200, required=True)
    body = _text(5000, required=True)


class OfficeBody(Schema):
    people = fields.List(
        Text(validate=PERSON), required=True, validate=validate.Length(max=50)
    )


class InboxQuery(Schema):
    unread = fields.Boolean()
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    after = Text(validate=validate.Length(max=200))


class InboxItem(Schema):
    id = Text()
    kind = Text()
    title = Text()
    body = Text()
    source_type = Text()
    correlation_id = Text(allow_none=True)
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)
    read_by = Text(allow_none=True)


class InboxPage(Schema):
    items = fields.List(fields.Nested(InboxItem))
    next = Text(allow_none=True)


class RuleView(Schema):
    kind = Text()
    event_type = Text()
    recipient = Text()
    channels = fields.List(Text())
    default_channels = fields.List(Text())


class RuleList(Schema):
    rules = fields.List(fields.Nested(RuleView))
    office = fields.List(Text())


class TemplateView(Schema):
    kind = Text()
    title = Text()
    body = Text()
    overridden = fields.Boolean()
    variables = fields.List(Text())


class TemplateList(Schema):
    items = fields.List(fields.Nested(TemplateView))


class OfficeView(Schema):
    people = fields.List(Text())
