"""Unit assessment (考核): the public event payloads and HTTP bodies (issue 5).

A district's rule table is part of its directory (DistrictRegistered/Changed,
contracts/directory.py): items, each with its points (also the cap on its
deductions), and deduction rules naming an assessed event type, equality filters on
that event's public data, and the points each matching event costs. Points travel as
decimal strings ("0.5"): the event log refuses floats (eventlog/canonical.py).

Scores are not events: they are computed when asked, from the marks (the assessed
events a unit drew in the period) and the rule table in force, so every point taken
off names the event that took it. Publishing a period's results (the campaign
office, once per period) is the event AssessmentPublished on the stream
`assessment-<district>-<period>`, routed as `<district>.assessment.published`.
"""

import re

from marshmallow import Schema, fields, validate

from .complaints import Text
from .registry import REGISTRY

SERVICE = "accountability"

# The events a rule may deduct for, and the AMQP pattern the assessment consumes
# each on. Every one names the unit it concerns in its public `unit`.
ASSESSED_EVENTS = {
    "ComplaintOverdue": "*.complaint.overdue",
    "IssueOverdue": "*.issue.overdue",
    "ComplaintReturned": "*.complaint.returned",
    "ComplaintRated": "*.complaint.rated",
    "CaseDecided": "*.case.decided",
    "CaseBulletinPublished": "*.case.bulletin_published",
}
# YYYY, YYYY-Qn or YYYY-MM, in Asia/Shanghai, from 2000: before 1901 Shanghai kept
# local mean time (+08:05:43), an offset no RFC 3339 date-time can carry, and no
# period before the platform holds anything to assess.
PERIOD = re.compile(
    r"^(?P<year>[2-8][0-9]{3})"
    r"(?:-(?P<month>0[1-9]|1[0-2])|-Q(?P<quarter>[1-4]))?\Z"
)
UNIT = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")


# ---- the rule table, as the directory's events carry it -------------------------


class DeductionRuleV1(Schema):
    event = Text(required=True, metadata={"description": "an assessed event type"})
    where = fields.Dict(
        keys=Text(),
        values=fields.Raw(),
        required=True,
        metadata={
            "description": "field of the event's public data -> the value it must "
            "equal (or a list: any of them); {} matches every event of the type"
        },
    )
    points = Text(required=True, metadata={"description": "per event, as a string"})


class AssessmentItemV1(Schema):
    code = Text(required=True)
    name = Text(required=True)
    points = Text(
        required=True, metadata={"description": "the item's points, also its cap"}
    )
    deductions = fields.List(fields.Nested(DeductionRuleV1), required=True)


class AssessmentRulesV1(Schema):
    items = fields.List(fields.Nested(AssessmentItemV1), required=True)
    bottom = fields.Integer(
        required=True,
        metadata={"description": "how many bottom units get an admonishing interview"},
    )


class AccountabilitySettingsV1(Schema):
    dual_investigation_from = Text(
        metadata={"description": "a measure code: 一案双查 from this severity up"}
    )
    appeal_days = fields.Integer(metadata={"description": "days to appeal a decision"})


# ---- events --------------------------------------------------------------------------


class AssessmentRank(Schema):
    unit = Text(required=True)
    score = Text(required=True, metadata={"description": "out of 100, as a string"})
    rank = fields.Integer(
        required=True, metadata={"description": "1 is best; ties share"}
    )


@REGISTRY.register("AssessmentPublished", 1, service=SERVICE)
class AssessmentPublishedV1(Schema):
    period = Text(required=True, metadata={"description": "YYYY, YYYY-Qn or YYYY-MM"})
    ranking = fields.List(fields.Nested(AssessmentRank), required=True)
    bottom = fields.List(
        Text(),
        required=True,
        metadata={
            "description": "units for an admonishing interview (约谈), "
            "not eligible for the year's awards"
        },
    )
    directory_version = fields.Integer(
        required=True,
        metadata={"description": "version of the directory (and rule table) applied"},
    )


# ---- HTTP ----------------------------------------------------------------------------


def _period(description: str, **kw) -> fields.String:
    return Text(
        validate=validate.Regexp(
            PERIOD, error="not a period: YYYY, YYYY-Qn or YYYY-MM"
        ),
        metadata={"description": description},
        **kw,
    )


class AssessmentQuery(Schema):
    period = _period(
        "YYYY, YYYY-Qn or YYYY-MM (Asia/Shanghai); the current year if left out"
    )


class AssessmentPublish(Schema):
    period = _period("a period that has ended: YYYY, YYYY-Qn or YYYY-MM", required=True)


class AssessmentDeduction(Schema):
    event_id = Text()
    type = Text()
    stream_id = Text()
    position = fields.Integer()
    occurred_at = fields.AwareDateTime()
    item = Text()
    rule = Text(
        metadata={"description": "the rule, e.g. ComplaintRated[rating=dissatisfied]"}
    )
    points = fields.Float(metadata={"description": "what the rule deducts per event"})
    counted = fields.Float(
        metadata={"description": "what it took off, once the item's cap is reached"}
    )


class AssessmentItemScore(Schema):
    code = Text()
    name = Text()
    points = fields.Float()
    deducted = fields.Float(metadata={"description": "at most the item's points"})
    score = fields.Float()


class AssessmentUnitScore(Schema):
    unit = Text()
    name = Text()
    score = fields.Float(metadata={"description": "out of 100"})
    deducted = fields.Float()
    rank = fields.Integer(metadata={"description": "1 is best; equal scores share"})
    admonishing_interview = fields.Boolean(metadata={"description": "约谈"})
    award_eligible = fields.Boolean()
    items = fields.List(fields.Nested(AssessmentItemScore))
    deductions = fields.List(
        fields.Nested(AssessmentDeduction),
        metadata={"description": "every one, in the order the events occurred"},
    )


class AssessmentPublication(Schema):
    event_id = Text()
    position = fields.Integer()
    at = fields.AwareDateTime()
    actor = Text()


class AssessmentHeader(Schema):
    district = Text()
    period = Text()
    starts = fields.AwareDateTime()
    ends = fields.AwareDateTime(metadata={"description": "exclusive"})
    as_of = fields.AwareDateTime()
    complete = fields.Boolean(metadata={"description": "the period has ended"})
    bottom = fields.Integer()
    directory_version = fields.Integer()
    published = fields.Nested(AssessmentPublication, allow_none=True)


class AssessmentView(AssessmentHeader):
    rules = fields.Nested(AssessmentRulesV1)
    units = fields.List(fields.Nested(AssessmentUnitScore))


class AssessmentOfUnit(AssessmentHeader):
    ranked = fields.Integer(metadata={"description": "how many units were ranked"})
    unit = fields.Nested(AssessmentUnitScore)


class AssessmentPublishedView(Schema):
    district = Text()
    period = Text()
    stream_id = Text()
    event_id = Text()
    position = fields.Integer()
    at = fields.AwareDateTime()
    ranking = fields.List(fields.Dict())
    bottom = fields.List(Text())
    directory_version = fields.Integer()
