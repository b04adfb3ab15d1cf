"""The directory: public payloads of its events (stream `directory-<district>`).

Units, who leads them, and people's names and titles are what a government publishes
about itself anyway; integrators route and address by them. A person's email and
phone stay inside (the read model, for notifications): no schema here declares them,
so they are never published.
"""

from marshmallow import Schema, fields

from .assessment import AccountabilitySettingsV1, AssessmentRulesV1
from .registry import REGISTRY

SERVICE = "directory"
Text = fields.String


def _event(type_):
    return REGISTRY.register(type_, 1, service=SERVICE)


class TimeLimitV1(Schema):
    days = fields.Integer(required=True)
    working = fields.Boolean(required=True)


@_event("DistrictRegistered")
class DistrictRegisteredV1(Schema):
    district = Text(required=True)
    name = Text(required=True)
    time_limits = fields.Dict(
        keys=Text(),
        values=fields.Nested(TimeLimitV1),
        required=True,
        metadata={
            "description": "complaint kind -> its time limit, when the "
            "district sets its own"
        },
    )
    # Both absent when the district's file has no such section (the defaults apply:
    # services/directory/rules.py).
    assessment = fields.Nested(
        AssessmentRulesV1,
        metadata={"description": "the district's unit assessment rule table (考核)"},
    )
    accountability = fields.Nested(
        AccountabilitySettingsV1,
        metadata={"description": "dual investigation threshold, appeal period"},
    )


@_event("DistrictChanged")
class DistrictChangedV1(DistrictRegisteredV1):
    pass


@_event("UnitRegistered")
class UnitRegisteredV1(Schema):
    code = Text(required=True)
    name = Text(required=True)
    main_leader = Text(required=True, metadata={"description": "person id (主要领导)"})
    leader_in_charge = Text(
        required=True, metadata={"description": "person id (分管领导)"}
    )


@_event("UnitChanged")
class UnitChangedV1(UnitRegisteredV1):
    pass


@_event("UnitRemoved")
class UnitRemovedV1(Schema):
    code = Text(required=True)


@_event("PersonRegistered")
class PersonRegisteredV1(Schema):
    id = Text(required=True)
    name = Text(required=True)
    title = Text(allow_none=True)
    unit = Text(allow_none=True, metadata={"description": "unit code"})


@_event("PersonChanged")
class PersonChangedV1(PersonRegisteredV1):
    pass


@_event("PersonRemoved")
class PersonRemovedV1(Schema):
    id = Text(required=True)
