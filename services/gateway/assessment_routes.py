"""/v1/assessment: unit assessment (考核) scores, rankings, and publishing a period.

Read by those who oversee units (inspection, the campaign office, administrators,
the city); published by the campaign office. The district comes from the token.
"""

from contracts import assessment as schemas

from . import policy
from .openapi import operation
from .web import ApiError, api, json_response, load_json, query_args

READERS = frozenset({"inspector", "campaign_office", "admin", "city"})
PUBLISHERS = frozenset({"campaign_office"})
QUERY = schemas.AssessmentQuery()
PUBLISH = schemas.AssessmentPublish()
TAGS = ["unit assessment"]


class AssessmentRoutes:
    @api("GET", "/v1/assessment")
    def assessment(self, request):
        who = self.principal(request)
        policy.require(who, READERS, "read unit assessments")
        period = query_args(request, QUERY).get("period")
        return json_response(self.accountability.assessment(who.district, period))

    @api("GET", "/v1/assessment/units/<string:unit>")
    def unit_assessment(self, request, unit):
        who = self.principal(request)
        policy.require(who, READERS, "read unit assessments")
        if not schemas.UNIT.fullmatch(unit):
            raise ApiError(404, "not_found", f"no unit {unit[:40]!r}")
        period = query_args(request, QUERY).get("period")
        found = self.accountability.assessment_of_unit(who.district, unit, period)
        return json_response(found)

    @api("POST", "/v1/assessment/publish")
    def publish_assessment(self, request):
        who = self.principal(request)
        policy.require(who, PUBLISHERS, "publish assessment results")
        body = load_json(request, PUBLISH)
        made = self.accountability.publish_assessment(
            who.district, who.actor(), body["period"]
        )
        return json_response(made, 201)


def openapi_paths(spec) -> None:
    """Adds this module's paths to the gateway's OpenAPI document."""
    for name in (
        "AssessmentView",
        "AssessmentOfUnit",
        "AssessmentPublishedView",
        "AssessmentPublish",
    ):
        spec.components.schema(name, schema=getattr(schemas, name))
    query = {"in": "query", "schema": schemas.AssessmentQuery}
    unit = {
        "name": "unit",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    spec.path(
        "/v1/assessment",
        operations={
            "get": _op(
                "Every unit's score in a period, ranked; deductions name their events",
                "AssessmentView",
                "403",
                "422",
                params=[query],
            )
        },
    )
    spec.path(
        "/v1/assessment/units/{unit}",
        operations={
            "get": _op(
                "One unit's score for a period, with its items and deductions",
                "AssessmentOfUnit",
                "403",
                "404",
                "422",
                params=[unit, query],
            )
        },
    )
    spec.path(
        "/v1/assessment/publish",
        operations={
            "post": _op(
                "Publish a period's results (AssessmentPublished), once per period",
                "AssessmentPublishedView",
                "400",
                "403",
                "409",
                "413",
                "415",
                "422",
                body="AssessmentPublish",
                status="201",
            )
        },
    )


def _op(summary, ok, *errors, **kw) -> dict:
    return operation(summary, ok, *errors, tags=TAGS, **kw)
