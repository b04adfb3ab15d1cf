"""The envelope every published event travels in (AMQP body, catch-up feed item)."""

import json

from marshmallow import Schema, fields

from .registry import REGISTRY, Registry, routing_key


class EnvelopeSchema(Schema):
    event_id = fields.UUID(required=True)
    position = fields.Integer(required=True, metadata={"description": "global, stable"})
    stream_id = fields.String(required=True)
    stream_version = fields.Integer(required=True)
    district = fields.String(required=True)
    category = fields.String(required=True)
    type = fields.String(required=True)
    schema_version = fields.Integer(required=True)
    data = fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": "null when the type has no public schema"},
    )
    actor = fields.String(required=True)
    reason = fields.String(
        allow_none=True,
        metadata={"description": "null unless the type's reasons are public"},
    )
    correlation_id = fields.String(allow_none=True)
    causation_id = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime(required=True)
    recorded_at = fields.AwareDateTime(required=True)
    hash = fields.String(
        required=True, metadata={"description": "hex SHA-256 of the chain"}
    )


def envelope(event, registry: Registry = REGISTRY) -> dict:
    """A recorded event as the public sees it: upcast, and only declared fields.

    Built by hand rather than dumped through EnvelopeSchema: the relay does this for
    every event, and the schema dump cost 50 microseconds each. EnvelopeSchema stays the
    contract (documentation, AsyncAPI); tests/unit/test_contracts.py proves that every
    envelope built here validates against it.
    """
    version, data = registry.public(event.type, event.schema_version, event.data)
    return {
        "event_id": str(event.event_id),
        "position": event.position,
        "stream_id": event.stream_id,
        "stream_version": event.stream_version,
        "district": event.district,
        "category": event.category,
        "type": event.type,
        "schema_version": version,
        "data": data,
        "actor": event.actor,
        "reason": event.reason if event.type in registry.public_reasons else None,
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "hash": event.hash.hex(),
    }


def message(event, registry: Registry = REGISTRY) -> tuple[str, bytes]:
    """(routing key, JSON body) for AMQP."""
    key = routing_key(event.district, event.category, event.type)
    body = json.dumps(
        envelope(event, registry), ensure_ascii=False, separators=(",", ":")
    )
    return key, body.encode("utf-8")
