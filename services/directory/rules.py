"""A district's own rules in its directory file: the `assessment` rule table (考核)
and the `accountability` settings, their checks, and the defaults when a file has
none (format: deploy/districts/binhai.yml).

What a file says is recorded as it says it (DistrictRegistered/Changed), points as
decimal strings; `effective_*` put the defaults under it for readers (read.district).
A rule table is checked whole: item codes unique, the items' points summing to 100,
every rule naming an event type the assessment consumes (contracts.assessment.
ASSESSED_EVENTS, each registered in contracts) and filtering only on fields that
event publishes, so a misspelt filter cannot silently match nothing.
"""

from decimal import Decimal

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

import contracts  # noqa: F401  (registers every service's events)
from contracts.accountability import MEASURES
from contracts.assessment import ASSESSED_EVENTS
from contracts.registry import REGISTRY, UnknownEventType

DEFAULT_ACCOUNTABILITY = {
    "dual_investigation_from": "admonishment_talk",
    "appeal_days": 30,
}
DEFAULT_BOTTOM = 3


def _rule(event: str, points: str, **where) -> dict:
    return {"event": event, "where": where, "points": points}


DEFAULT_ASSESSMENT = {
    "bottom": DEFAULT_BOTTOM,
    "items": [
        {
            "code": "work_style",
            "name": "作风建设考核",
            "points": "90",
            "deductions": [
                _rule("ComplaintOverdue", "2"),
                _rule("IssueOverdue", "2"),
                _rule("ComplaintReturned", "0.5"),
                # the official's case; the leaders' linked cases (一案双查)
                # hold them to account in person, not the unit once more
                _rule("CaseDecided", "3", subject_role="official"),
                _rule("CaseBulletinPublished", "5"),
            ],
        },
        {
            "code": "public_appraisal",
            "name": "千人评议",
            "points": "10",
            "deductions": [_rule("ComplaintRated", "1", rating="dissatisfied")],
        },
    ],
}


def effective_assessment(recorded: dict | None) -> dict:
    return recorded or DEFAULT_ASSESSMENT


def effective_accountability(recorded: dict | None) -> dict:
    return {**DEFAULT_ACCOUNTABILITY, **(recorded or {})}


def _decimal_text(value: Decimal) -> str:
    """2, 2.0 and 2.00 all as "2"; 0.50 as "0.5"."""
    return format(value.normalize(), "f")


def _points(most: int) -> fields.Decimal:
    def check(value: Decimal) -> None:
        if value.as_tuple().exponent < -2:
            raise ValidationError(f"{value} has more than two decimals")
        if not 0 < value <= most:
            raise ValidationError(f"{value} is not more than 0 and at most {most}")

    return fields.Decimal(required=True, validate=check)


def _scalar(value) -> bool:
    return isinstance(value, str | bool | int) and not isinstance(value, float)


class DeductionRuleSchema(Schema):
    event = fields.String(required=True)
    where = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)
    points = _points(100)

    @validates_schema
    def known_event(self, data, **kwargs):
        event = data["event"]
        if event not in ASSESSED_EVENTS:
            raise ValidationError(
                f"unknown event type {event!r}; one of {', '.join(ASSESSED_EVENTS)}",
                "event",
            )
        try:
            published = REGISTRY.schema(event, REGISTRY.latest(event)).fields
        except UnknownEventType as error:  # listed but not registered: a code bug
            raise ValidationError(str(error), "event") from None
        for key, value in data["where"].items():
            if key not in published:
                raise ValidationError(
                    f"{event} publishes no field {key!r}; it has "
                    f"{', '.join(sorted(published))}",
                    "where",
                )
            values = value if isinstance(value, list) else [value]
            if not values or not all(_scalar(v) for v in values):
                raise ValidationError(
                    f"{key}: expected a text, number or true/false, or a list of them",
                    "where",
                )

    @post_load
    def as_text(self, data, **kwargs):
        return {**data, "points": _decimal_text(data["points"])}


class AssessmentItemSchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z][a-z0-9_]{0,63}\Z", error="{input!r} is not an item code"
        ),
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    points = _points(100)
    deductions = fields.List(fields.Nested(DeductionRuleSchema), required=True)

    @post_load
    def as_text(self, data, **kwargs):
        return {**data, "points": _decimal_text(data["points"])}


class AssessmentSchema(Schema):
    bottom = fields.Integer(
        strict=True, validate=validate.Range(0, 100), load_default=DEFAULT_BOTTOM
    )
    items = fields.List(
        fields.Nested(AssessmentItemSchema),
        required=True,
        validate=validate.Length(min=1),
    )

    @validates_schema
    def whole(self, data, **kwargs):
        codes = [item["code"] for item in data["items"]]
        twice = sorted({code for code in codes if codes.count(code) > 1})
        if twice:
            raise ValidationError(f"item code {twice[0]!r} appears twice", "items")
        total = sum(Decimal(item["points"]) for item in data["items"])
        if total != 100:
            raise ValidationError(
                f"the items' points add up to {_decimal_text(total)}, not 100", "items"
            )


class AccountabilitySchema(Schema):
    dual_investigation_from = fields.String(
        validate=validate.OneOf(
            MEASURES, error="{input!r} is not a measure; one of {choices}"
        )
    )
    appeal_days = fields.Integer(strict=True, validate=validate.Range(1, 365))
