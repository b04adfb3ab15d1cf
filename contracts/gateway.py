"""Gateway: the events of bearer tokens, and the token views of /v1/tokens.

The secret's hash is never published, nor shown: it is in no schema here. A
revocation's reason is free text an administrator wrote, so it stays in the log
(TokenRevoked is not registered with public reasons) and in the administrators'
view.
"""

import re

from marshmallow import Schema, fields, validate

from .complaints import Text
from .registry import REGISTRY

TOKEN_ID = re.compile(r"^[a-z0-9]{10}\Z")


@REGISTRY.register("TokenIssued", 1, service="gateway")
class TokenIssuedV1(Schema):
    # A bearer token was issued: its role, its unit for a unit handler, who holds it,
    # and until when it is valid. Its district is the event's. (No docstring: the
    # AsyncAPI document would print it, and tests/unit/test_asyncapi.py keeps this
    # type as its example of a message without a description.)
    token_id = fields.String(required=True)
    role = fields.String(required=True)
    unit = fields.String(allow_none=True)
    subject = fields.String(required=True)
    # Added with expiry: events from before hold none, and their tokens expire the
    # default lifetime after their issue (services/gateway/auth.py: LIFETIME).
    expires_at = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "ISO 8601, UTC", "format": "date-time"},
    )


@REGISTRY.register("TokenRevoked", 1, service="gateway")
class TokenRevokedV1(Schema):
    """A bearer token was revoked: from now on it authenticates nobody."""

    token_id = fields.String(required=True)


class TokenView(Schema):
    """A token as an administrator sees it: what it may do and for how long."""

    token_id = fields.String(required=True)
    district = fields.String(
        required=True,
        metadata={"description": "its home; a city token acts in any district"},
    )
    role = fields.String(required=True)
    unit = fields.String(allow_none=True)
    subject = fields.String(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(["active", "expired", "revoked"])
    )
    created_at = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(required=True)
    revoked_at = fields.AwareDateTime(allow_none=True)
    revoked_reason = fields.String(allow_none=True)


class TokenList(Schema):
    tokens = fields.List(fields.Nested(TokenView), required=True)


REASON_LENGTH = 500


class RevokeQuery(Schema):
    # Text: a NUL (`?reason=%00`) or a lone surrogate would reach the log, which
    # cannot keep it, and answer 500; refused here as 422 instead.
    reason = Text(
        validate=validate.Length(min=1, max=REASON_LENGTH),
        metadata={"description": "why, kept in the log with the revocation"},
    )
