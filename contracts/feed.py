"""The catch-up feed (`GET /v1/events`): its query and its page.

The feed gives a district's committed events in the same commit-safe order, and as
the same envelopes (contracts/envelope.py), as the relay publishes on `liuhen.events`,
so an integrator can fill the gap before its AMQP queue existed and then switch to the
queue (docs/integrators.md says how, without gaps or duplicates).
"""

from marshmallow import Schema, fields, validate

from .envelope import EnvelopeSchema

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_POSITION = 2**63 - 1  # a bigint: anything larger can never be a position


class FeedQuery(Schema):
    """Unknown parameters are refused (marshmallow's default), as the gateway wants."""

    after = fields.Integer(
        load_default=0,
        validate=validate.Range(
            0, MAX_POSITION, error="Must be 0 or the position of an event."
        ),
        metadata={
            "description": "the position of the last event you handled (the "
            "`after` of the previous page); 0 or absent: from the start of the log. "
            "It must be the position of an event of your district"
        },
    )
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(1, MAX_LIMIT),
        metadata={"description": f"events per page, 1-{MAX_LIMIT}"},
    )


class FeedPage(Schema):
    events = fields.List(
        fields.Nested(EnvelopeSchema),
        required=True,
        metadata={
            "description": "the district's next committed events, in the order the "
            "relay publishes them (not position order), as AMQP carries them"
        },
    )
    after = fields.Integer(
        required=True,
        metadata={
            "description": "pass as `after` for the next page: the position of this "
            "page's last event, or the request's `after` when the page is empty"
        },
    )
    more = fields.Boolean(
        required=True,
        metadata={
            "description": "true: more events are there now, ask again at once; "
            "false: this page reached the head of the log as it stood"
        },
    )
