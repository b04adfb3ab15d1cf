"""Rectification issues and campaigns: public event payloads and HTTP bodies.

Published payloads carry what the ledgers carry (the lists are reported to the
campaign office and, in bulletins, to the public); evidence stays a reference.
"""

import re

from marshmallow import Schema, fields, validate

from .complaints import Text, Url, _sane_years, _text
from .registry import REGISTRY

SERVICE = "issues"
CAMPAIGN_ID = re.compile(r"^CP-[0-9]{4}-[0-9A-Z]{8}\Z")
# I-2026-7K3M9QXA, or I-H-<12 hex> for an issue handed over from a complaint
ISSUE_ID = re.compile(r"^I-(?:[0-9]{4}-[0-9A-Z]{8}|H-[0-9a-f]{12})\Z")
LISTS = ("problem", "improvement", "suggestion")  # 附件1, 附件2, 附件3
SOURCES = ("self_inspection", "inspection", "complaint", "suggestion")
PHASES = ("mobilise", "self_inspect", "inspect_and_hold_accountable", "summarise")
STATUSES = ("registered", "answered", "rectifying", "submitted", "closed")


def _event(type_):
    return REGISTRY.register(type_, 1, service=SERVICE)


@_event("CampaignLaunched")
class CampaignLaunchedV1(Schema):
    campaign_id = Text(required=True)
    name = Text(required=True)
    phases = fields.List(fields.Dict(), required=True)


@_event("IssueRegistered")
class IssueRegisteredV1(Schema):
    issue_id = Text(required=True)
    campaign_id = Text(required=True)
    unit = Text(required=True)
    list = Text(required=True)
    source = Text(required=True)
    manifestation = Text(required=True)
    suggested_unit = Text(allow_none=True)
    complaint_id = Text(allow_none=True)


@_event("IssueSuggestionAnswered")
class IssueSuggestionAnsweredV1(Schema):
    answer = Text(required=True)


@_event("IssueMeasuresSet")
class IssueMeasuresSetV1(Schema):
    measures = Text(required=True)
    at_once = fields.Boolean(required=True)
    due_at = Text(allow_none=True)


@_event("IssueProgressReported")
class IssueProgressReportedV1(Schema):
    progress = Text(required=True)


@_event("IssueSubmitted")
class IssueSubmittedV1(Schema):
    evidence = fields.List(Text(), required=True)


@_event("IssueSentBack")
class IssueSentBackV1(Schema):
    pass


@_event("IssueClosed")
class IssueClosedV1(Schema):
    on_time = fields.Boolean(required=True)


@_event("IssueOverdue")
class IssueOverdueV1(Schema):
    unit = Text(required=True)
    due_at = Text(required=True)


# ---- HTTP bodies -------------------------------------------------------------------


class Phase(Schema):
    phase = Text(required=True, validate=validate.OneOf(PHASES))
    starts_on = fields.Date(required=True, validate=_sane_years)
    ends_on = fields.Date(required=True, validate=_sane_years)


class NewCampaign(Schema):
    name = _text(200, required=True)
    phases = fields.List(
        fields.Nested(Phase), required=True, validate=validate.Length(min=1, max=8)
    )


class NewIssue(Schema):
    campaign_id = Text(required=True, validate=validate.Regexp(CAMPAIGN_ID))
    unit = _text(64, metadata={"description": "a unit handler's own unit by default"})
    list = Text(required=True, validate=validate.OneOf(LISTS))
    source = Text(load_default="self_inspection", validate=validate.OneOf(SOURCES))
    manifestation = _text(5000, required=True)
    responsible = _text(100, allow_none=True)
    supervisor = _text(100, allow_none=True)
    suggested_unit = _text(64, allow_none=True)


def _body(name, **fields_):
    return type(name, (Schema,), fields_)


ACTIONS = {
    "answer": _body("AnswerBody", answer=_text(5000, required=True)),
    "set_measures": _body(
        "MeasuresBody",
        measures=_text(5000, required=True),
        at_once=fields.Boolean(
            load_default=False, metadata={"description": "立行立改: no deadline"}
        ),
        days=fields.Integer(strict=True, validate=validate.Range(1, 365)),
        deadline=fields.Date(validate=_sane_years),
    ),
    "report_progress": _body("ProgressBody", progress=_text(5000, required=True)),
    "submit": _body(
        "SubmitBody",
        evidence=fields.List(
            Url(validate=validate.Length(max=2000)),
            required=True,
            validate=validate.Length(min=1, max=20),
        ),
        note=_text(2000, allow_none=True),
    ),
    "send_back": _body("SendBackBody", reason=_text(2000, required=True)),
    "close": _body("VerifyBody", note=_text(2000, allow_none=True)),
}


class IssueQuery(Schema):
    campaign_id = _text(64)
    complaint_id = _text(64)
    unit = _text(64)
    list = Text(validate=validate.OneOf(LISTS))
    status = fields.List(Text(validate=validate.OneOf(STATUSES)))
    overdue = fields.Boolean()
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    after = Text(validate=validate.Length(max=200))


class LedgerQuery(Schema):
    format = Text(load_default="xlsx", validate=validate.OneOf(("xlsx", "csv")))
    list = Text(validate=validate.OneOf(LISTS))
    unit = Text(
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}\Z"),
        metadata={"description": "one unit's workbook; without it, a zip of all"},
    )


class SummaryQuery(Schema):
    period = Text(
        validate=validate.Regexp(r"^(19|[2-8][0-9])[0-9]{2}-(0[1-9]|1[0-2])\Z"),
        metadata={"description": "YYYY-MM; figures as at its end (or now)"},
    )
    format = Text(load_default="json", validate=validate.OneOf(("json", "csv")))


class IssueStep(Schema):
    version = fields.Integer()
    type = Text()
    actor = Text()
    reason = Text(allow_none=True)
    at = fields.AwareDateTime()
    correlation_id = Text(allow_none=True)
    causation_id = Text(allow_none=True)


class IssueView(Schema):
    id = Text()
    district = Text()
    campaign_id = Text()
    unit = Text()
    unit_name = Text(allow_none=True)
    list = Text()
    source = Text()
    status = Text()
    manifestation = Text()
    responsible = Text(allow_none=True)
    supervisor = Text(allow_none=True)
    suggested_unit = Text(allow_none=True)
    answer = Text(allow_none=True)
    measures = Text(allow_none=True)
    at_once = fields.Boolean(allow_none=True)
    progress = Text(allow_none=True)
    evidence = fields.List(Text())
    due_at = fields.AwareDateTime(allow_none=True)
    overdue = fields.Boolean()
    sent_back = fields.Integer()
    closed_at = fields.AwareDateTime(allow_none=True)
    closed_on_time = fields.Boolean(allow_none=True)
    complaint_id = Text(allow_none=True)
    registered_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    history = fields.List(fields.Nested(IssueStep))


class IssuePage(Schema):
    items = fields.List(fields.Nested(IssueView))
    next = Text(allow_none=True)


class CampaignView(Schema):
    id = Text()
    district = Text()
    name = Text()
    phases = fields.List(fields.Nested(Phase))
    current_phase = Text(allow_none=True)
    launched_at = fields.AwareDateTime()


class CampaignList(Schema):
    items = fields.List(fields.Nested(CampaignView))


class Summary(Schema):
    scope = Text()
    period = Text()
    as_of = Text()
    units = fields.List(fields.Dict())
