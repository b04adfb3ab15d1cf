"""Integrators' RabbitMQ users: who was given AMQP access to a district's feed, and
when it was taken away (stream `integrator-<district>-<name>`, written by `liuhen
integrator add|remove`). No password is ever in an event, published or not.

Owned by the gateway with `TokenIssued`: both are credentials to read a district, so
a webhook filter `gateway.*` follows all of them.
"""

from marshmallow import Schema, fields

from .registry import REGISTRY

SERVICE = "gateway"


@REGISTRY.register("IntegratorAdded", 1, service=SERVICE)
class IntegratorAddedV1(Schema):
    """An integrator may now follow the district's events over AMQP: a RabbitMQ user
    that can bind only the district's routing keys, to queues named
    `queue_prefix...`."""

    name = fields.String(required=True)
    user = fields.String(required=True, metadata={"description": "RabbitMQ user"})
    queue_prefix = fields.String(required=True)


@REGISTRY.register("IntegratorRemoved", 1, service=SERVICE)
class IntegratorRemovedV1(Schema):
    """The integrator's RabbitMQ user is deleted and its connections closed."""

    name = fields.String(required=True)
    user = fields.String(required=True, metadata={"description": "RabbitMQ user"})
