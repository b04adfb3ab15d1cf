"""Complaints: the public event payloads, and the HTTP bodies the gateway takes.

What is published (AMQP, feeds, webhooks) is what these event schemas declare, nothing
more. Deliberately absent: the complainant (name, phone, anything that identifies
them), the query code, the description, the persons and the location. The description
and location often identify the complainant ("the clerk at window 3 told me, the
shop owner at No. 12, ..."), and the persons named are officials not yet found at
fault. Integrators get what they route and count by; the substance is read through
the API under its role rules.
"""

import re

from marshmallow import Schema, ValidationError, fields, validate

from .registry import REGISTRY
from .vocabulary import CATEGORIES, CHANNELS, KINDS, RATINGS, STATUSES

SERVICE = "complaints"
COMPLAINT_ID = re.compile(r"^C-[0-9]{4}-[0-9A-Z]{8}\Z")  # C-2026-7K3M9QXA


def storable(text: str) -> bool:
    """PostgreSQL and the event log can keep it: no NUL character (text columns
    refuse it, and the log's canonical encoding does too), nor lone surrogates (not
    encodable as UTF-8)."""
    return "\x00" not in text and not any("\ud800" <= ch <= "\udfff" for ch in text)


class _Storable:
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not storable(text):
            raise ValidationError("Must not contain NUL or lone surrogates.")
        return text


class Text(_Storable, fields.String):
    pass


class Url(_Storable, fields.Url):
    pass


class Email(_Storable, fields.Email):
    pass


def _sane_years(value) -> None:
    """PostgreSQL and the log handle 1900-9000 without surprise."""
    if not 1900 <= value.year <= 9000:
        raise ValidationError("Must be in the years 1900-9000.")


def _event(type_, public_reason=False):
    return REGISTRY.register(type_, 1, service=SERVICE, public_reason=public_reason)


def _text(max_len: int, **kw):
    return Text(validate=validate.Length(min=1, max=max_len), **kw)


# ---- public event payloads -------------------------------------------------------


@_event("ComplaintReceived")
class ComplaintReceivedV1(Schema):
    complaint_id = Text(required=True)
    channel = Text(required=True)
    kind = Text(required=True)
    category = Text(required=True)
    urgent = fields.Boolean(required=True)
    unit_complained = Text(allow_none=True)
    anonymous = fields.Boolean(required=True)


@REGISTRY.register("ComplaintReceived", 2, service=SERVICE)
class ComplaintReceivedV2(ComplaintReceivedV1):
    """Version 2 keeps the complainant encrypted (services/complaints/pii.py); what
    is published is the same."""


IDENTITY_FIELDS = ("name", "phone", "email", "address")


@REGISTRY.upcaster("ComplaintReceived", 1)
def _identity_dropped(data: dict) -> dict:
    """Version 1 held the complainant in plain text (in the log it stays: the log is
    append-only). Upcast, the identity is dropped: which fields were given is kept,
    and the reference of the identity is the complaint's id (a legacy complainant,
    read from its own event: services/complaints/identity.py)."""
    who = data.pop("complainant", None) or {}
    given = [f for f in IDENTITY_FIELDS if who.get(f)]
    data["complainant_ref"] = data.get("complaint_id") if given else None
    data["complainant_ciphertext"] = None
    data["complainant_given"] = given
    return data


@_event("ComplainantIdentityRead")
class ComplainantIdentityReadV1(Schema):
    """Someone read who complained (the actor; the reason stays in the log)."""

    complaint_id = Text(required=True)
    via = Text(required=True, metadata={"description": "api or notify"})


@_event("ComplainantErased")
class ComplainantErasedV1(Schema):
    """The complainant's identity was erased: its key destroyed, unreadable."""

    complaint_id = Text(required=True)


class _Empty(Schema):
    pass


for _type in (
    "ComplaintAccepted",
    "ComplaintRejected",
    "ComplaintExtensionRefused",
):
    _event(_type)(type(_type + "V1", (_Empty,), {}))

# Their reasons are the system's own fixed phrases.
_event("ComplaintReopened", public_reason=True)(
    type("ComplaintReopenedV1", (_Empty,), {})
)


@_event("ComplaintMerged")
class ComplaintMergedV1(Schema):
    into = Text(required=True)


@_event("ComplaintDispatched")
class ComplaintDispatchedV1(Schema):
    unit = Text(required=True)
    unit_name = Text(required=True)
    time_limit = fields.Dict(required=True)


@_event("ComplaintSigned")
class ComplaintSignedV1(Schema):
    unit = Text(required=True)
    clock_started_at = Text(required=True)
    due_at = Text(required=True)


@_event("ComplaintReturned")
class ComplaintReturnedV1(Schema):
    unit = Text(required=True)
    clock_paused = fields.Boolean(required=True)


@_event("ComplaintExtensionRequested")
class ComplaintExtensionRequestedV1(Schema):
    days = fields.Integer(required=True)
    working = fields.Boolean(required=True)


@_event("ComplaintExtensionApproved")
class ComplaintExtensionApprovedV1(Schema):
    days = fields.Integer(required=True)
    due_at = Text(required=True)


@_event("ComplaintReplied")
class ComplaintRepliedV1(Schema):
    substantiated = fields.Boolean(allow_none=True)
    unit = Text(allow_none=True, metadata={"description": "the unit that replied"})
    on_time = fields.Boolean(required=True)


@_event("ComplaintFeedbackGiven")
class ComplaintFeedbackGivenV1(Schema):
    pass


@_event("ComplaintRated")
class ComplaintRatedV1(Schema):
    rating = Text(required=True)
    unit = Text(allow_none=True, metadata={"description": "the unit that replied"})


@_event("ComplaintClosed")
class ComplaintClosedV1(Schema):
    by_ruling = fields.Boolean(required=True)


@_event("ComplaintUrged")
class ComplaintUrgedV1(Schema):
    unit = Text(allow_none=True)


@_event("ComplaintEscalated")
class ComplaintEscalatedV1(Schema):
    unit = Text(allow_none=True)


@_event("ComplaintHandedOver")
class ComplaintHandedOverV1(Schema):
    """`problem` is written by the supervisor for the unit's problem list (a ledger
    reported to the campaign office): it is published, so it must not identify the
    complainant. The issues service registers the issue from this payload."""

    campaign_id = Text(required=True)
    unit = Text(required=True)
    problem = Text(required=True)


@_event("ComplaintOverdue", public_reason=True)
class ComplaintOverdueV1(Schema):
    unit = Text(allow_none=True)
    due_at = Text(required=True)


@_event("ComplaintDeadlineNear")
class ComplaintDeadlineNearV1(Schema):
    unit = Text(allow_none=True)
    due_at = Text(required=True)


# ---- HTTP bodies -------------------------------------------------------------------


class Location(Schema):
    address = _text(500, allow_none=True)
    lat = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    long = fields.Float(allow_none=True, validate=validate.Range(-180, 180))


class Complainant(Schema):
    name = _text(100, allow_none=True)
    phone = Text(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 ()-]{5,24}\Z"))
    email = Email(allow_none=True)
    address = _text(500, allow_none=True)


class NewComplaint(Schema):
    channel = Text(required=True, validate=validate.OneOf(CHANNELS))
    kind = Text(load_default="complaint", validate=validate.OneOf(KINDS))
    category = Text(required=True, validate=validate.OneOf(CATEGORIES))
    urgent = fields.Boolean(load_default=False)
    title = _text(200, allow_none=True)
    description = _text(10000, required=True)
    unit_complained = _text(64, allow_none=True)
    persons = fields.List(
        _text(100), load_default=list, validate=validate.Length(max=50)
    )
    location = fields.Nested(Location, load_default=dict)
    attachments = fields.List(
        Url(validate=validate.Length(max=2000)),
        load_default=list,
        validate=validate.Length(max=20),
    )
    complainant = fields.Nested(
        Complainant,
        allow_none=True,
        load_default=None,
        metadata={
            "description": "omit for an anonymous complaint: a query code "
            "to follow it is returned once"
        },
    )
    about_principal_leader = fields.Boolean(
        load_default=False,
        metadata={
            "description": "the complaint is about a principal leader of the "
            "district (主要领导): it is sealed, recorded at the level above and "
            "answered 202 (also when `persons` names one from the directory)"
        },
    )


def _body(name, **fields_):
    return type(name, (Schema,), fields_)


REASON = {"reason": _text(2000, required=True)}
NOTE = {"note": _text(2000, allow_none=True)}

# action -> the body its POST /v1/complaints/{id}/<action> takes
ACTIONS = {
    "accept": _body("AcceptBody", **NOTE),
    "reject": _body("RejectBody", **REASON),
    "merge": _body(
        "MergeBody",
        into=Text(required=True, validate=validate.Regexp(COMPLAINT_ID)),
        reason=_text(2000, allow_none=True),
    ),
    "dispatch": _body("DispatchBody", unit=_text(64, required=True), **NOTE),
    "sign": _body("SignBody"),
    "return": _body("ReturnBody", **REASON),
    "request_extension": _body(
        "ExtensionRequestBody",
        days=fields.Integer(strict=True, required=True, validate=validate.Range(1, 60)),
        **REASON,
    ),
    "approve_extension": _body(
        "ExtensionApprovalBody", reason=_text(2000, allow_none=True)
    ),
    "refuse_extension": _body("ExtensionRefusalBody", **REASON),
    "reply": _body(
        "ReplyBody",
        result=_text(10000, required=True),
        substantiated=fields.Boolean(allow_none=True),
    ),
    "feedback": _body("FeedbackBody", text=_text(5000, required=True)),
    "rate": _body(
        "RatingBody",
        rating=Text(required=True, validate=validate.OneOf(RATINGS)),
        comment=_text(2000, allow_none=True),
    ),
    "close": _body(
        "CloseBody",
        ruling=_text(
            2000,
            allow_none=True,
            metadata={
                "description": "a supervisor's ruling, to close without an "
                "accepting rating"
            },
        ),
    ),
    "urge": _body("UrgeBody", **NOTE),
    "escalate": _body("EscalateBody", **REASON),
    "hand_over": _body(
        "HandOverBody",
        campaign_id=_text(64, required=True),
        unit=_text(64, required=True),
        problem=_text(
            5000,
            required=True,
            metadata={
                "description": "the systemic problem, for the unit's problem "
                "list; published: must not identify the complainant"
            },
        ),
    ),
}


class ListQuery(Schema):
    status = fields.List(Text(validate=validate.OneOf(STATUSES)))
    unit = _text(64)
    channel = Text(validate=validate.OneOf(CHANNELS))
    category = Text(validate=validate.OneOf(CATEGORIES))
    overdue = fields.Boolean()
    received_from = fields.AwareDateTime(validate=_sane_years)
    received_to = fields.AwareDateTime(validate=_sane_years)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    after = Text(
        validate=validate.Length(max=200),
        metadata={"description": "the `next` cursor of the previous page"},
    )


# ---- HTTP responses ----------------------------------------------------------------


class Step(Schema):
    version = fields.Integer()
    type = Text()
    actor = Text()
    reason = Text(allow_none=True)
    at = fields.AwareDateTime()


class ComplainantView(Schema):
    """Whether there is an identity, never the identity: that is read on record with
    GET /v1/complaints/{id}/complainant."""

    ref = Text(metadata={"description": "the complainant reference (liuhen pii)"})
    given = fields.List(
        Text(validate=validate.OneOf(IDENTITY_FIELDS)),
        metadata={"description": "which fields were given, not their values"},
    )
    state = Text(
        validate=validate.OneOf(("encrypted", "erased", "legacy")),
        metadata={
            "description": "encrypted; erased (its key destroyed: unreadable); "
            "legacy (recorded before encryption)"
        },
    )


class IdentityQuery(Schema):
    reason = _text(
        500,
        required=True,
        metadata={"description": "why you read it: recorded with your name"},
    )


class ComplainantIdentity(Complainant):
    complaint_id = Text(required=True)
    ref = Text(required=True)
    read_event_id = Text(
        required=True,
        metadata={"description": "the ComplainantIdentityRead that records this read"},
    )


class ComplaintView(Schema):
    id = Text(required=True)
    district = Text()
    status = Text(validate=validate.OneOf(STATUSES))
    channel = Text()
    kind = Text()
    category = Text()
    urgent = fields.Boolean()
    title = Text(allow_none=True)
    description = Text()
    unit_complained = Text(allow_none=True)
    persons = fields.List(Text())
    location = fields.Nested(Location)
    attachments = fields.List(Text())
    anonymous = fields.Boolean()
    received_by = Text(metadata={"description": "first contact (首问负责)"})
    received_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    handling_unit = Text(allow_none=True)
    handling_unit_name = Text(allow_none=True)
    dispatched_at = fields.AwareDateTime(allow_none=True)
    signed_at = fields.AwareDateTime(allow_none=True)
    due_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "null while no clock runs or paused"}
    )
    pending_extension = fields.Integer(allow_none=True)
    extensions = fields.Integer()
    returns = fields.Integer()
    urged = fields.Integer()
    escalated = fields.Integer()
    reopened = fields.Integer()
    overdue = fields.Boolean()
    reply = Text(allow_none=True)
    substantiated = fields.Boolean(allow_none=True)
    replied_on_time = fields.Boolean(allow_none=True)
    feedback = Text(
        allow_none=True,
        metadata={"description": "null except for intake and inspector tokens"},
    )
    rating = Text(allow_none=True)
    reject_reason = Text(
        allow_none=True,
        metadata={"description": "null except for intake and inspector tokens"},
    )
    merged_into = Text(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    ruling = Text(allow_none=True)
    version = fields.Integer()
    forwarded_from = Text(
        allow_none=True,
        metadata={
            "description": "sealed: the district that received it, about its "
            "principal leader (recorded here, at the level above); else null"
        },
    )
    complainant = fields.Nested(
        ComplainantView,
        allow_none=True,
        metadata={
            "description": "only for intake and inspector tokens; null if anonymous"
        },
    )
    history = fields.List(fields.Nested(Step))


class ComplaintPage(Schema):
    items = fields.List(fields.Nested(ComplaintView), required=True)
    next = Text(allow_none=True, metadata={"description": "pass as `after`"})


class Received(Schema):
    id = Text(required=True)
    query_code = Text(
        allow_none=True,
        metadata={"description": "anonymous complaints only; shown once"},
    )
    complaint = fields.Nested(ComplaintView)


class Sealed(Schema):
    """The answer to a sealed complaint's intake: it names neither the complaint nor
    its id, so the receiving district has nothing to look up."""

    sealed = fields.Boolean(required=True)
    forwarded_to = Text(
        required=True, metadata={"description": "the jurisdiction above (a district)"}
    )
    query_code = Text(
        allow_none=True,
        metadata={"description": "anonymous complaints only; shown once"},
    )


class Tracked(Schema):
    """A sealed complaint's (docs/security-notes/sealed.md) has its status and
    `note` only: the receiving district's clerk may hold the code."""

    complaint_id = Text()
    district = Text()
    status = Text()
    feedback = Text(allow_none=True)
    updated_at = fields.AwareDateTime()
    note = Text()  # sealed only: that the matter is handled at the level above


class UnitFigures(Schema):
    unit = Text()
    complaints = fields.Integer()
    overdue = fields.Integer()
    replied_on_time = fields.Integer()
    satisfied = fields.Integer()
    returns = fields.Integer()


class UnitStats(Schema):
    units = fields.List(fields.Nested(UnitFigures))


class ErrorDetail(Schema):
    code = Text(required=True)
    message = Text(required=True)
    details = fields.Raw(allow_none=True)


class Error(Schema):
    error = fields.Nested(ErrorDetail, required=True)


class Health(Schema):
    status = Text()
    eventlog = fields.Dict()
