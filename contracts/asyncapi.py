"""The AsyncAPI 3.0 document of the live feed (`liuhen.events`), generated from the
registered event schemas: for every event type one channel (its routing key, with
the district as a parameter), one message (the envelope, its `data` the type's
latest schema) and one `receive` operation. Nothing is written here per type except
the few types that are not appended to the stream their name begins with.

The gateway serves it at `GET /v1/asyncapi.json`.
"""

import inspect
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from .envelope import EnvelopeSchema
from .registry import REGISTRY, Registry, routing_key

VERSION = "1.0.0"  # the envelope's; each type's data carries its own schema_version
EXCHANGE = "liuhen.events"  # declared by eventlog/relay.py (and its subscribers)
AMQP_BINDING = "0.3.0"

# Every stream category a service appends to, and its stream ids. The category
# (the stream id up to its first `-`) is the middle of the routing key.
STREAMS = {
    "complaint": "complaint-<complaint id>",  # services/complaints/handlers.py
    "complainant": "complainant-<complainant ref>",  # services/complaints/identity.py
    "campaign": "campaign-<campaign id>",  # services/issues/handlers.py
    "issue": "issue-<issue id>",  # services/issues/handlers.py
    "clue": "clue-<clue id>",  # services/accountability/handlers.py
    "case": "case-<case id>",  # services/accountability/handlers.py
    "assessment": "assessment-<district>-<period>",  # .../assessment_handlers.py
    "notification": "notification-<notification id>",  # services/notify/handlers.py
    "notify": "notify-<district>",  # services/notify/handlers.py: the settings
    "webhook": "webhook-<subscription id>",  # services/notify/webhooks.py
    "delivery": "delivery-<delivery id>",  # services/notify/webhooks*.py
    "directory": "directory-<district>",  # services/directory/domain.py
    "token": "token-<token id>",  # services/gateway/auth.py
    "integrator": "integrator-<district>-<name>",  # liuhen/integrators.py
    "digest": "digest-<district>",  # services/audit (DigestRecorded)
}

# Types not appended to the stream their first word names. Every type beginning with
# a word listed here must be listed itself: `Webhook` begins both subscription and
# delivery events, so no default could tell a new one's stream.
ELSEWHERE = {
    "DistrictRegistered": "directory",
    "DistrictChanged": "directory",
    "UnitRegistered": "directory",
    "UnitChanged": "directory",
    "UnitRemoved": "directory",
    "PersonRegistered": "directory",
    "PersonChanged": "directory",
    "PersonRemoved": "directory",
    "WebhookSubscribed": "webhook",
    "WebhookSubscriptionChanged": "webhook",
    "WebhookSecretRotated": "webhook",
    "WebhookUnsubscribed": "webhook",
    "WebhookDeliveryScheduled": "delivery",
    "WebhookDelivered": "delivery",
    "WebhookAttemptFailed": "delivery",
    "WebhookDeadLettered": "delivery",
    "WebhookResendRequested": "delivery",
}
_FIRST_WORD = re.compile(r"[A-Z][a-z0-9]*")
_LISTED_WORDS = {_FIRST_WORD.match(t).group() for t in ELSEWHERE}


class UnknownCategory(LookupError):
    pass


def category(type_: str) -> str:
    """The stream category `type_` is appended to: its first word, lowercased,
    unless ELSEWHERE says otherwise. The registry does not know it, and a wrong one
    would send integrators to bind a routing key no event ever has: so a type whose
    category is not certain raises rather than guesses."""
    if type_ in ELSEWHERE:
        return ELSEWHERE[type_]
    word = _FIRST_WORD.match(type_).group()
    if word in _LISTED_WORDS or word.lower() not in STREAMS:
        raise UnknownCategory(
            f"event type {type_}: its stream category is not known; find the stream "
            "its service appends it to and add the type to ELSEWHERE (or a new "
            "category to STREAMS) in contracts/asyncapi.py"
        )
    return word.lower()


def document(registry: Registry = REGISTRY) -> dict:
    """The AsyncAPI 3.0.0 document of every type in `registry`, as a JSON object."""
    convert = _converter()
    types = sorted({type_ for type_, _ in registry.schemas})
    return {
        "asyncapi": "3.0.0",
        "info": _info(),
        "defaultContentType": "application/json",
        "servers": _servers(),
        "channels": {t: _channel(registry, t, convert) for t in types},
        "operations": {f"receive{t}": _operation(registry, t) for t in types},
        "components": _components(convert),
    }


def _converter():
    """apispec's marshmallow converter, for OpenAPI 3.1: its schemas are plain JSON
    Schema (`"type": ["string", "null"]`, not OpenAPI 3.0's `nullable`), which the
    AsyncAPI Schema Object (a JSON Schema Draft 07 superset) takes as it is. Nested
    schemas are inlined (no name), so each payload stands alone."""
    plugin = MarshmallowPlugin(schema_name_resolver=lambda schema: None)
    APISpec("Liuhen events", VERSION, "3.1.0", plugins=[plugin])
    return plugin.converter.schema2jsonschema


def _described(json_schema: dict, schema) -> dict:
    """A schema class's own docstring (never inherited) as its description."""
    if schema.__doc__:
        json_schema["description"] = inspect.cleandoc(schema.__doc__)
    return json_schema


def _channel(registry: Registry, type_: str, convert) -> dict:
    cat = category(type_)
    return {
        "address": routing_key("{district}", cat, type_),
        "description": f"`{type_}` events, appended to the streams `{STREAMS[cat]}`.",
        "parameters": {"district": {"$ref": "#/components/parameters/district"}},
        "bindings": {"$ref": "#/components/channelBindings/events"},
        "messages": {type_: _message(registry, type_, cat, convert)},
    }


def _message(registry: Registry, type_: str, cat: str, convert) -> dict:
    version = registry.latest(type_)
    schema = registry.schemas[(type_, version)]
    message = {
        "name": type_,
        "title": f"{type_} v{version}",
        "summary": f"Recorded by the {registry.owners[type_]} service.",
        "contentType": "application/json",
        "correlationId": {"$ref": "#/components/correlationIds/case"},
        "bindings": {"$ref": "#/components/messageBindings/envelope"},
        "payload": _payload(registry, type_, version, cat, convert(schema)),
    }
    return _described(message, schema)


def _payload(registry: Registry, type_: str, version: int, cat: str, data) -> dict:
    """The envelope, narrowed to this type. `data` is null only when the relay
    withheld a payload that failed to encode (eventlog/relay.py), which then keeps
    the version it was stored under."""
    data["title"] = f"{type_} v{version}"
    properties = {
        "category": {"const": cat},
        "type": {"const": type_},
        "schema_version": {
            "type": "integer",
            "description": f"{version}, the latest: older events are upcast to it "
            "before they are published (a withheld payload keeps its own)",
        },
        "data": {"oneOf": [data, {"type": "null", "description": "withheld"}]},
    }
    if type_ not in registry.public_reasons:
        properties["reason"] = {
            "type": "null",
            "description": "this type's reasons are not published: they are free "
            "text, which may name the complainant",
        }
    envelope = {"$ref": "#/components/schemas/Envelope"}
    return {"allOf": [envelope], "properties": properties}


def _operation(registry: Registry, type_: str) -> dict:
    return {
        "action": "receive",
        "channel": {"$ref": f"#/channels/{type_}"},
        "messages": [{"$ref": f"#/channels/{type_}/messages/{type_}"}],
        "summary": f"Receive {type_} events",
        "tags": [{"name": registry.owners[type_]}],
    }


DESCRIPTION = f"""\
Every event committed to Liuhen's log is published to the RabbitMQ topic exchange
`{EXCHANGE}` (durable) as a persistent message with the routing key
`<district>.<category>.<action>`, e.g. `binhai.complaint.dispatched`: the category is
the event's stream category (its stream id up to the first `-`), the action its type
in snake case less the category. Bind a queue of your own with a pattern such as
`binhai.complaint.*` or `binhai.#`.

The body is the JSON envelope (`Envelope`; the AMQP `message_id` is its `event_id`).
Its `data` is the payload in the type's latest schema, holding only the fields that
schema declares; types this document does not list are published with `data: null`.

Delivery is at least once: the same event can arrive again (a redelivery, a relay
taking over after a failure), so deduplicate by `event_id`. To catch up, on first
start or after a gap, page through `GET /v1/events?after=POSITION` (the same
envelopes) from the last `position` you processed, then follow the exchange.

Routing keys begin with the district, so RabbitMQ topic permissions confine an
integrator's user to its own district's events."""


def _info() -> dict:
    return {"title": "Liuhen events", "version": VERSION, "description": DESCRIPTION}


def _servers() -> dict:
    return {
        "rabbitmq": {
            "host": "{host}",
            "protocol": "amqp",
            "protocolVersion": "0.9.1",
            "description": "The platform's RabbitMQ.",
            "variables": {
                "host": {"default": "localhost:5672", "description": "host:port"}
            },
            "security": [{"$ref": "#/components/securitySchemes/broker"}],
        }
    }


def _components(convert) -> dict:
    return {
        "schemas": {"Envelope": _described(convert(EnvelopeSchema), EnvelopeSchema)},
        "parameters": {
            "district": {
                "description": "The district's code, as in its directory.",
                "examples": ["binhai"],
            }
        },
        "channelBindings": {"events": {"amqp": _exchange_binding()}},
        "messageBindings": {
            "envelope": {
                "amqp": {"contentEncoding": "utf-8", "bindingVersion": AMQP_BINDING}
            }
        },
        "correlationIds": {
            "case": {
                "description": "The case the event belongs to, across services.",
                "location": "$message.payload#/correlation_id",
            }
        },
        "securitySchemes": {
            "broker": {
                "type": "userPassword",
                "description": "A RabbitMQ user, its topic permissions limited to "
                "its district's routing keys.",
            }
        },
    }


def _exchange_binding() -> dict:
    return {
        "is": "routingKey",
        "exchange": {
            "name": EXCHANGE,
            "type": "topic",
            "durable": True,
            "autoDelete": False,
        },
        "bindingVersion": AMQP_BINDING,
    }
