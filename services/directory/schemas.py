"""The schema of a district's directory file (format: deploy/districts/binhai.yml).

Field by field first; then, on a directory whose fields are all well formed, the
references: ids and codes unique, every leader a person of the file, every person's
unit a unit of it. Unknown keys are refused (marshmallow's default), so a misspelt
key is an error rather than a value silently missing. Loading gives a
domain.Directory.
"""

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from eventlog.model import DISTRICT

from .domain import TIME_LIMIT_KINDS, Directory, Person, Unit
from .rules import AccountabilitySchema, AssessmentSchema


def _text(max_len: int = 100, **kw) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_len), **kw)


def _pattern(regex: str, what: str) -> validate.Regexp:
    return validate.Regexp(regex, error=f"{{input!r}} is not {what} ({{regex}})")


class TimeLimitSchema(Schema):
    # Both keys required: "days: 20" alone could mean either, and working days and
    # calendar days differ by weeks over a holiday.
    # strict: neither "15" nor true counts as a number of days
    days = fields.Integer(required=True, strict=True, validate=validate.Range(1, 365))
    working = fields.Boolean(required=True)


TimeLimitsSchema = Schema.from_dict(
    {kind: fields.Nested(TimeLimitSchema) for kind in TIME_LIMIT_KINDS},
    name="TimeLimitsSchema",
)


class PersonSchema(Schema):
    id = fields.String(required=True, validate=_pattern(r"^[a-z0-9-]{1,64}$", "an id"))
    name = _text(required=True)
    title = _text(200, allow_none=True)
    unit = fields.String(allow_none=True)
    email = fields.Email(allow_none=True)
    phone = fields.String(
        allow_none=True, validate=_pattern(r"^[0-9+() -]{3,32}$", "a phone number")
    )


class UnitSchema(Schema):
    code = fields.String(
        required=True, validate=_pattern(r"^[a-z][a-z0-9_]{0,63}$", "a unit code")
    )
    name = _text(required=True)
    main_leader = fields.String(required=True)
    leader_in_charge = fields.String(required=True)


class DirectorySchema(Schema):
    district = fields.String(
        required=True, validate=_pattern(DISTRICT.pattern, "a district code")
    )
    name = _text(required=True)
    time_limits = fields.Nested(TimeLimitsSchema, load_default=dict)
    people = fields.List(fields.Nested(PersonSchema), required=True)
    units = fields.List(fields.Nested(UnitSchema), required=True)
    assessment = fields.Nested(AssessmentSchema, load_default=None)
    accountability = fields.Nested(AccountabilitySchema, load_default=dict)
    # Sealed complaints (services/complaints/sealed.py): a complaint about one of
    # the district's principal leaders is recorded at the level above, never here.
    principal_leaders = fields.List(fields.String(), load_default=list)
    level_above = fields.String(
        load_default=None, validate=_pattern(DISTRICT.pattern, "a district code")
    )

    @validates_schema
    def references(self, data, **kwargs):
        errors: dict = {}

        def problem(section, index, field, message):
            place = errors.setdefault(section, {}).setdefault(index, {})
            place.setdefault(field, []).append(message)

        people = {p["id"] for p in data["people"]}
        units = {u["code"] for u in data["units"]}
        for section, key in (("people", "id"), ("units", "code")):
            seen = set()
            for i, entry in enumerate(data[section]):
                if entry[key] in seen:
                    problem(section, i, key, f"duplicate {key} {entry[key]!r}")
                seen.add(entry[key])
        for i, unit in enumerate(data["units"]):
            for role in ("main_leader", "leader_in_charge"):
                if unit[role] not in people:
                    problem("units", i, role, f"no person {unit[role]!r}")
        for i, person in enumerate(data["people"]):
            if person.get("unit") is not None and person["unit"] not in units:
                problem("people", i, "unit", f"no unit {person['unit']!r}")
        for i, leader in enumerate(data["principal_leaders"]):
            if leader not in people:
                errors.setdefault("principal_leaders", {})[i] = [
                    f"no person {leader!r}"
                ]
        if data["level_above"] == data["district"]:
            errors["level_above"] = ["a district is not the level above itself"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def directory(self, data, **kwargs) -> Directory:
        return Directory(
            district=data["district"],
            name=data["name"],
            time_limits=data["time_limits"],
            people={p["id"]: Person(**p) for p in data["people"]},
            units={u["code"]: Unit(**u) for u in data["units"]},
            assessment=data["assessment"],
            accountability=data["accountability"],
            principal_leaders=tuple(data["principal_leaders"]),
            level_above=data["level_above"],
        )
