"""Audit: the signed digests of each district's log, and the read views inspectors
get (case timelines, a stream as it stood, the integrity report).

A digest (eventlog/digests.py) is recorded as `DigestRecorded` on the stream
`digest-<district>`, routed as `<district>.digest.recorded`: keep it, and you can check
the log against it later (`liuhen verify --digests FILE`), whoever holds the database.
"""

import re

from marshmallow import Schema, fields, validate

from .registry import REGISTRY

SERVICE = "audit"

# What identifies a complainant never appears in an audit view, whoever reads it:
# the identity is read, and the read recorded, through the complaint itself.
# So do secrets' hashes (an anonymous complainant's query code, a token's secret) and
# the complainant's own words on rating, which no complaint view shows either.
# The identity encrypted (ComplaintReceived schema 2) is masked as the plain one is.
CONFIDENTIAL = frozenset(
    {
        "complainant",
        "complainant_ciphertext",
        "query_code_hash",
        "secret_hash",
        "comment",
    }
)
STREAM = re.compile(r"^[a-z][a-z0-9_]*-[A-Za-z0-9_.:-]{1,120}\Z")
CASE_REF = re.compile(r"^(?:[a-z][a-z0-9_]*-)?[A-Za-z0-9_.:-]{1,120}\Z")


@REGISTRY.register("DigestRecorded", 1, service=SERVICE)
class DigestRecordedV1(Schema):
    """A signed digest of the district's log up to a head (eventlog/digests.py)."""

    district = fields.String(required=True)
    head_tx = fields.Integer(
        required=True, metadata={"description": "the head's transaction id"}
    )
    head_position = fields.Integer(
        required=True, metadata={"description": "the last event covered"}
    )
    count = fields.Integer(required=True, metadata={"description": "events covered"})
    digest = fields.String(
        required=True, metadata={"description": "hex running SHA-256 (sha256-chain/v1)"}
    )
    algorithm = fields.String(required=True)
    key_id = fields.String(
        required=True, metadata={"description": "first 16 hex of SHA-256(public key)"}
    )
    signature = fields.String(
        required=True, metadata={"description": "Ed25519, base64"}
    )


# ---- queries -----------------------------------------------------------------------


class StreamQuery(Schema):
    at = fields.AwareDateTime(
        metadata={"description": "the stream as recorded by then (ISO 8601, with zone)"}
    )
    version = fields.Integer(
        # A bigint, as stream versions are: a larger number is refused, not served.
        validate=validate.Range(min=1, max=2**63 - 1),
        metadata={"description": "or: up to version"},
    )


class CaseQuery(Schema):
    at = fields.AwareDateTime(
        metadata={"description": "only what was recorded by then"}
    )


class VerifyQuery(Schema):
    district = fields.String(
        metadata={"description": "the token's own; another is refused (403)"}
    )


# ---- views ---------------------------------------------------------------------


class Change(Schema):
    field = fields.String(required=True)
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class TimelineEntry(Schema):
    position = fields.Integer(required=True)
    event_id = fields.String(required=True)
    stream_id = fields.String(required=True)
    stream_version = fields.Integer(required=True)
    type = fields.String(required=True)
    label = fields.String(required=True, metadata={"description": "in Chinese"})
    summary = fields.String(required=True, metadata={"description": "in Chinese"})
    occurred_at = fields.String(required=True)
    recorded_at = fields.String(required=True)
    actor = fields.String(required=True)
    role = fields.String(required=True)
    reason = fields.String(allow_none=True)
    correlation_id = fields.String(allow_none=True)
    causation_id = fields.String(allow_none=True)
    caused_by = fields.Integer(
        allow_none=True, metadata={"description": "position of the causing event"}
    )
    status_before = fields.String(allow_none=True)
    status_after = fields.String(allow_none=True)
    changes = fields.List(fields.Nested(Change), required=True)
    hash = fields.String(required=True)
    verified = fields.Boolean(required=True)
    problem = fields.String(allow_none=True)


class TimelineView(Schema):
    case = fields.String(required=True, metadata={"description": "the correlation id"})
    district = fields.String(required=True)
    as_of = fields.String(allow_none=True)
    streams = fields.List(fields.String(), required=True)
    verified = fields.Boolean(required=True)
    entries = fields.List(fields.Nested(TimelineEntry), required=True)


class StreamStateView(Schema):
    stream_id = fields.String(required=True)
    district = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "as it stood"})
    current_version = fields.Integer(required=True)
    status = fields.String(allow_none=True)
    as_of = fields.String(allow_none=True)
    state = fields.Dict(required=True)
    last_event = fields.Nested(TimelineEntry, allow_none=True)
    verified = fields.Boolean(required=True)


class VerifyReport(Schema):
    scope = fields.String(required=True)
    ok = fields.Boolean(required=True)
    events = fields.Integer(required=True)
    streams = fields.Integer(required=True)
    breaks = fields.List(fields.Dict(), required=True)
    digests = fields.Dict(required=True)
