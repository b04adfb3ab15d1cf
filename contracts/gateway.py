"""Gateway: the events of bearer tokens. The secret's hash is never published."""

from marshmallow import Schema, fields

from .registry import REGISTRY


@REGISTRY.register("TokenIssued", 1, service="gateway")
class TokenIssuedV1(Schema):
    token_id = fields.String(required=True)
    role = fields.String(required=True)
    unit = fields.String(allow_none=True)
    subject = fields.String(required=True)
