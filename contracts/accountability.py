"""Accountability (追责问责): clues, cases, decisions; the public event payloads and the
HTTP bodies the gateway takes.

Two aggregates. A clue (`clue-<id>`, 问题线索) is registered from an event (a complaint
or issue overdue, a complaint substantiated) or by an inspector, verified (初核), then
dismissed or filed. Filing opens a case (`case-<id>`): investigation, findings, an
exemption assessment (容错免责) where claimed, a decision with measures, the subject
notified, an appeal and its decision, closed. A decision at or above the district's
dual-investigation severity opens linked cases on the unit's main leader and the
leader in charge (一案双查).

Published: ids, kinds, the unit, measures and outcomes. Withheld: every text a person
wrote (the clue's summary, findings, reasoning, appeal grounds), since those name
complainants and witnesses; and the subject of a clue or open case, an official not yet
found at fault. A decision names its subject (it is served on them); a bulletin is
public by design (点名道姓通报) and names them in full.
"""

import re

from marshmallow import Schema, fields, validate

from .assessment import PERIOD
from .complaints import Text, _text
from .registry import REGISTRY

SERVICE = "accountability"
CLUE_ID = re.compile(r"^CL-(?:[0-9]{4}-[0-9A-Z]{8}|S-[0-9a-f]{16})\Z")
CASE_ID = re.compile(r"^CA-(?:[0-9]{4}-[0-9A-Z]{8}|D-[0-9a-f]{16})\Z")

# Clue kinds: where a clue comes from. The five mandatory triggers (五必查) are kinds
# of their own: a clue of one of them cannot be dismissed without verification.
CLUE_KINDS = {
    "complaint_overdue": "投诉超期办理",
    "issue_overdue": "整改超期",
    "complaint_substantiated": "投诉查实",
    "inspection_finding": "监督检查发现",
    "report": "其他问题线索",
    # 五必查
    "approval_complaint": "涉及审批服务的投诉",
    "project_stuck": "项目推进受阻",
    "investor_withdrawing": "投资者撤资",
    "poor_investment_service": "对招商引资项目服务不到位",
    "project_over_budget": "政府投资项目严重超概算、超工期",
}
MANDATORY_KINDS = frozenset(
    {
        "approval_complaint",
        "project_stuck",
        "investor_withdrawing",
        "poor_investment_service",
        "project_over_budget",
    }
)
SOURCE_TYPES = ("complaint", "issue", "inspection", "manual")

# Measures, lightest first (DOMAIN.md, "Accountability"): the index is the severity.
MEASURES = {
    "criticism_education": "批评教育",
    "self_examination": "责令检查",
    "admonishment_talk": "诫勉谈话",
    "public_criticism": "通报批评",
    "suspension": "停职检查",
    "reassignment": "调整职务",
    "ordered_resignation": "责令辞职",
    "dismissal_from_post": "免职",
    "demotion": "降职",
    "warning": "警告",
    "demerit": "记过",
    "major_demerit": "记大过",
    "downgrade": "降级",
    "removal": "撤职",
    "expulsion": "开除",
}
SEVERITY = {code: rank for rank, code in enumerate(MEASURES, start=1)}

# 容错免责: what may exempt or mitigate. A collective decision is not among them.
EXEMPTION_GROUNDS = {
    "followed_superior_policy": "贯彻落实上级决策部署",
    "diligent": "勤勉尽责、履职尽责",
    "no_personal_gain": "未谋取私利",
    "reform_or_pilot": "改革创新、先行先试",
    "losses_retrieved": "主动挽回损失、消除影响",
}
EXEMPTION_OUTCOMES = ("exempt", "mitigate", "refused")
APPEAL_OUTCOMES = ("refused", "changed", "revoked")
SUBJECT_ROLES = ("official", "main_leader", "leader_in_charge")

CLUE_STATUSES = ("registered", "verifying", "dismissed", "filed")
CASE_STATUSES = (
    "investigating",
    "investigated",
    "exempted",
    "decided",
    "notified",
    "appealed",
    "appeal_decided",
    "closed",
)


def _event(type_, public_reason=False):
    return REGISTRY.register(type_, 1, service=SERVICE, public_reason=public_reason)


class Source(Schema):
    type = Text(required=True, validate=validate.OneOf(SOURCE_TYPES))
    id = Text(allow_none=True)


# ---- clue events ---------------------------------------------------------------------


@_event("ClueRegistered")
class ClueRegisteredV1(Schema):
    """Data also holds `summary` and `subject` (withheld)."""

    clue_id = Text(required=True)
    kind = Text(required=True)
    mandatory = fields.Boolean(required=True)
    unit = Text(allow_none=True)
    source = fields.Nested(Source, required=True)
    trigger_event_id = Text(allow_none=True)


@_event("ClueGroundAdded")
class ClueGroundAddedV1(Schema):
    """The same source raised again (overdue after substantiated, say): one clue."""

    kind = Text(required=True)
    trigger_event_id = Text(allow_none=True)


@_event("ClueVerificationStarted")
class ClueVerificationStartedV1(Schema):
    pass


@_event("ClueDismissed")
class ClueDismissedV1(Schema):
    pass


@_event("ClueFiled")
class ClueFiledV1(Schema):
    case_id = Text(required=True)


# ---- case events ---------------------------------------------------------------------


@_event("CaseOpened")
class CaseOpenedV1(Schema):
    """Data also holds `subject` (a person id; withheld until a decision)."""

    case_id = Text(required=True)
    unit = Text(allow_none=True)
    subject_role = Text(required=True)
    origin = Text(required=True, metadata={"description": "clue | dual_investigation"})
    clue_id = Text(allow_none=True)
    linked_from = Text(allow_none=True)


@_event("CaseLinked")
class CaseLinkedV1(Schema):
    case_id = Text(required=True, metadata={"description": "the case linked to"})
    relation = Text(required=True)


@_event("CaseFindingsRecorded")
class CaseFindingsRecordedV1(Schema):
    substantiated = fields.Boolean(required=True)


@_event("CaseExemptionAssessed")
class CaseExemptionAssessedV1(Schema):
    outcome = Text(required=True)
    grounds = fields.List(Text(), required=True)


@_event("CaseDecided")
class CaseDecidedV1(Schema):
    case_id = Text(required=True)
    unit = Text(allow_none=True)
    subject = Text(allow_none=True)
    subject_role = Text(required=True)
    measures = fields.List(Text(), required=True)
    severity = fields.Integer(required=True)
    collective_decision = fields.Boolean(required=True)
    mitigated = fields.Boolean(required=True)


@_event("CaseMarkedReference")
class CaseMarkedReferenceV1(Schema):
    pass


@_event("CaseBulletinPublished")
class CaseBulletinPublishedV1(Schema):
    """A named bulletin (点名道姓通报): public by design."""

    case_id = Text(required=True)
    bulletin_id = Text(required=True)
    title = Text(required=True)
    body = Text(required=True)
    unit = Text(allow_none=True)
    unit_name = Text(allow_none=True)
    subject_name = Text(allow_none=True)
    measures = fields.List(Text(), required=True)
    published_on = Text(required=True)


@_event("CaseSubjectNotified")
class CaseSubjectNotifiedV1(Schema):
    subject = Text(allow_none=True)
    appeal_until = Text(required=True, metadata={"description": "YYYY-MM-DD"})


@_event("CaseAppealed")
class CaseAppealedV1(Schema):
    pass


@_event("CaseAppealDecided")
class CaseAppealDecidedV1(Schema):
    outcome = Text(required=True)
    measures = fields.List(Text(), required=True)


@_event("CaseClosed")
class CaseClosedV1(Schema):
    outcome = Text(required=True)


# ---- HTTP bodies ---------------------------------------------------------------------

UNIT = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}\Z")
PERSON = validate.Regexp(r"^[a-z0-9-]{1,64}\Z")


class NewClue(Schema):
    kind = Text(required=True, validate=validate.OneOf(CLUE_KINDS))
    unit = Text(required=True, validate=UNIT)
    subject = Text(
        allow_none=True,
        validate=PERSON,
        metadata={"description": "a person id of the directory"},
    )
    summary = _text(5000, required=True)
    complaint_id = Text(
        allow_none=True, metadata={"description": "the complaint it concerns"}
    )
    issue_id = Text(allow_none=True, metadata={"description": "the issue it concerns"})


class Reasoned(Schema):
    reason = _text(2000, required=True)


class Empty(Schema):
    note = _text(2000, allow_none=True)


class FileClue(Schema):
    reason = _text(2000, required=True)
    subject = Text(
        allow_none=True,
        validate=PERSON,
        metadata={"description": "the person investigated; the clue's by default"},
    )


class Findings(Schema):
    findings = _text(20000, required=True)
    substantiated = fields.Boolean(required=True)


class Exemption(Schema):
    outcome = Text(required=True, validate=validate.OneOf(EXEMPTION_OUTCOMES))
    grounds = fields.List(
        Text(validate=validate.OneOf(EXEMPTION_GROUNDS)),
        required=True,
        validate=validate.Length(max=len(EXEMPTION_GROUNDS)),
    )
    reasoning = _text(20000, required=True)


class Decision(Schema):
    measures = fields.List(
        Text(validate=validate.OneOf(MEASURES)),
        required=True,
        validate=validate.Length(min=1, max=5),
    )
    reasoning = _text(20000, required=True)
    collective_decision = fields.Boolean(
        load_default=False,
        metadata={"description": "recorded; exempts nobody (集体决策不免责)"},
    )


class Bulletin(Schema):
    title = _text(200, required=True)
    body = _text(20000, required=True)


class Appeal(Schema):
    grounds = _text(20000, required=True)


class AppealDecision(Schema):
    outcome = Text(required=True, validate=validate.OneOf(APPEAL_OUTCOMES))
    reasoning = _text(20000, required=True)
    measures = fields.List(
        Text(validate=validate.OneOf(MEASURES)),
        load_default=list,
        validate=validate.Length(max=5),
        metadata={"description": "the new measures, when the outcome is changed"},
    )


class Close(Schema):
    reason = _text(2000, allow_none=True)


CLUE_ACTIONS = {
    "verify": Empty,
    "dismiss": Reasoned,
    "file": FileClue,
}
CASE_ACTIONS = {
    "record_findings": Findings,
    "assess_exemption": Exemption,
    "decide": Decision,
    "mark_reference": Empty,
    "publish_bulletin": Bulletin,
    "notify_subject": Empty,
    "appeal": Appeal,
    "decide_appeal": AppealDecision,
    "close": Close,
}


# ---- queries and views ---------------------------------------------------------------


class ClueQuery(Schema):
    status = fields.List(Text(validate=validate.OneOf(CLUE_STATUSES)))
    kind = Text(validate=validate.OneOf(CLUE_KINDS))
    unit = Text(validate=UNIT)
    mandatory = fields.Boolean()
    source_id = _text(64)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    after = Text(validate=validate.Length(max=200))


class CaseQuery(Schema):
    status = fields.List(Text(validate=validate.OneOf(CASE_STATUSES)))
    unit = Text(validate=UNIT)
    origin = Text(validate=validate.OneOf(("clue", "dual_investigation")))
    reference = fields.Boolean()
    subject = Text(validate=PERSON)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    after = Text(validate=validate.Length(max=200))


class BulletinQuery(Schema):
    period = Text(
        validate=validate.Regexp(PERIOD),
        metadata={"description": "YYYY, YYYY-Qn or YYYY-MM (default: this month)"},
    )


class CaseStep(Schema):
    version = fields.Integer()
    type = Text()
    actor = Text()
    reason = Text(allow_none=True)
    data = fields.Dict()
    at = fields.AwareDateTime()
    correlation_id = Text(allow_none=True)
    causation_id = Text(allow_none=True)


class ClueView(Schema):
    id = Text()
    district = Text()
    kind = Text()
    kind_name = Text()
    mandatory = fields.Boolean()
    unit = Text(allow_none=True)
    subject = Text(allow_none=True)
    summary = Text()
    source = fields.Nested(Source)
    status = Text()
    grounds = fields.Integer(metadata={"description": "times its source was raised"})
    case_id = Text(allow_none=True)
    registered_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    created = fields.Boolean(metadata={"description": "on registration: a new clue"})
    history = fields.List(fields.Nested(CaseStep))


class CluePage(Schema):
    items = fields.List(fields.Nested(ClueView))
    next = Text(allow_none=True)


class Link(Schema):
    case_id = Text()
    relation = Text(
        metadata={"description": "dual_investigation | dual_investigation_of | sibling"}
    )
    subject = Text(allow_none=True)
    subject_role = Text()
    status = Text()


class CaseView(Schema):
    id = Text()
    district = Text()
    clue_id = Text(allow_none=True)
    unit = Text(allow_none=True)
    subject = Text(allow_none=True)
    subject_role = Text()
    origin = Text()
    linked_from = Text(allow_none=True)
    status = Text()
    substantiated = fields.Boolean(allow_none=True)
    exemption = Text(allow_none=True)
    exemption_grounds = fields.List(Text())
    measures = fields.List(Text())
    measure_names = fields.List(Text())
    severity = fields.Integer(allow_none=True)
    collective_decision = fields.Boolean(allow_none=True)
    mitigated = fields.Boolean(allow_none=True)
    reference = fields.Boolean()
    bulletin_id = Text(allow_none=True)
    notified_at = fields.AwareDateTime(allow_none=True)
    appeal_until = fields.Date(allow_none=True)
    appeal_outcome = Text(allow_none=True)
    outcome = Text(allow_none=True)
    opened_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    links = fields.List(fields.Nested(Link))
    history = fields.List(fields.Nested(CaseStep))


class CasePage(Schema):
    items = fields.List(fields.Nested(CaseView))
    next = Text(allow_none=True)


class BulletinView(Schema):
    id = Text()
    case_id = Text()
    title = Text()
    body = Text()
    unit = Text(allow_none=True)
    unit_name = Text(allow_none=True)
    subject_name = Text(allow_none=True)
    measures = fields.List(Text())
    published_on = fields.Date()
    published_at = fields.AwareDateTime()


class BulletinList(Schema):
    period = Text()
    from_ = Text(data_key="from")
    to = Text()
    items = fields.List(fields.Nested(BulletinView))
