"""A district's directory as an aggregate. Pure: no YAML, no SQL.

The state is the directory as its events left it (None before the first). `decide`
compares it with the directory wanted (a district's file, see load.py) and returns the
events that turn one into the other, so loading an unchanged file decides nothing.
Events carry full new values, never patches: `evolve` only puts them in place.

Order of the events of one decision: the district, then people and units registered
or changed, then units removed, then people removed. A reader that follows the events
one by one never meets a unit whose leader is not (yet, or any longer) in the
directory.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import reduce

from eventlog.model import NewEvent

# Kinds of complaint a district may set its own time limit for (see
# services/complaints/deadlines.py: each entry is {days, working}).
TIME_LIMIT_KINDS = ("consultation", "help_request", "complaint", "report", "urgent")


class DirectoryError(Exception):
    """A directory that cannot be loaded: one readable line naming file and place."""


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    title: str | None = None
    unit: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    main_leader: str  # a person id: 主要领导
    leader_in_charge: str  # a person id: 分管领导


@dataclass(frozen=True)
class Directory:
    district: str
    name: str
    time_limits: Mapping[str, Mapping] = field(default_factory=dict)
    people: Mapping[str, Person] = field(default_factory=dict)
    units: Mapping[str, Unit] = field(default_factory=dict)
    # The district's own rules (services/directory/rules.py), as its file gives
    # them: None and {} when it gives none, and the defaults apply.
    assessment: Mapping | None = None
    accountability: Mapping = field(default_factory=dict)
    # Its principal leaders (主要领导, person ids) and the jurisdiction above it (a
    # district code): a complaint about one of them is recorded there, not here.
    principal_leaders: tuple[str, ...] = ()
    level_above: str | None = None


def stream(district: str) -> str:
    return f"directory-{district}"


def decide(
    state: Directory | None, desired: Directory, actor: str, reason: str | None = None
) -> list[NewEvent]:
    if state is not None and state.district != desired.district:
        raise DirectoryError(
            f"the directory of {state.district} cannot take {desired.district}'s"
        )
    current = state or Directory(desired.district, desired.name)
    people, people_gone = _diff(current.people, desired.people)
    units, units_gone = _diff(current.units, desired.units)
    changes = [
        *_district(state, desired),
        *[(f"Person{verb}", asdict(person)) for verb, person in people],
        *[(f"Unit{verb}", asdict(unit)) for verb, unit in units],
        *[("UnitRemoved", {"code": code}) for code in units_gone],
        *[("PersonRemoved", {"id": id_}) for id_ in people_gone],
    ]
    return [NewEvent(type_, data, actor, reason) for type_, data in changes]


def _district(state: Directory | None, desired: Directory) -> list[tuple[str, dict]]:
    data = {
        "district": desired.district,
        "name": desired.name,
        "time_limits": {k: dict(v) for k, v in desired.time_limits.items()},
    }
    # Only when the file has them: a district without them records what it did
    # before these sections existed, so its events and state stay as they were.
    if desired.assessment is not None:
        data["assessment"] = desired.assessment
    if desired.accountability:
        data["accountability"] = dict(desired.accountability)
    if desired.principal_leaders:
        data["principal_leaders"] = list(desired.principal_leaders)
    if desired.level_above:
        data["level_above"] = desired.level_above
    if state is None:
        return [("DistrictRegistered", data)]
    if _settings(state) != _settings(desired):
        return [("DistrictChanged", data)]
    return []


def _settings(d: Directory) -> tuple:
    return (
        d.name,
        d.time_limits,
        d.assessment,
        d.accountability,
        tuple(d.principal_leaders),
        d.level_above,
    )


def _diff(current: Mapping, desired: Mapping) -> tuple[list[tuple[str, object]], list]:
    """([(Registered | Changed, value)], [keys gone]), each in its mapping's order."""
    put = [
        ("Changed" if key in current else "Registered", value)
        for key, value in desired.items()
        if current.get(key) != value
    ]
    return put, [key for key in current if key not in desired]


def evolve(state: Directory | None, event) -> Directory | None:
    """`event` has `.type` and `.data` (a RecordedEvent, or a NewEvent in tests)."""
    try:
        step = _EVOLVE[event.type]
    except KeyError:
        raise DirectoryError(f"unknown directory event {event.type}") from None
    return step(state, event.data)


def fold(history) -> Directory | None:
    return reduce(evolve, history, None)


def _district_set(state, d):
    base = state or Directory(d["district"], d["name"])
    return replace(
        base,
        name=d["name"],
        time_limits=d["time_limits"],
        assessment=d.get("assessment"),
        accountability=d.get("accountability", {}),
        principal_leaders=tuple(d.get("principal_leaders", ())),
        level_above=d.get("level_above"),
    )


def _unit_set(state, d):
    unit = Unit(d["code"], d["name"], d["main_leader"], d["leader_in_charge"])
    return replace(state, units={**state.units, unit.code: unit})


def _person_set(state, d):
    fields_ = ("id", "name", "title", "unit", "email", "phone")
    person = Person(*(d.get(name) for name in fields_))
    return replace(state, people={**state.people, person.id: person})


def _without(mapping: Mapping, key) -> dict:
    return {k: v for k, v in mapping.items() if k != key}


_EVOLVE = {
    "DistrictRegistered": _district_set,
    "DistrictChanged": _district_set,
    "UnitRegistered": _unit_set,
    "UnitChanged": _unit_set,
    "UnitRemoved": lambda s, d: replace(s, units=_without(s.units, d["code"])),
    "PersonRegistered": _person_set,
    "PersonChanged": _person_set,
    "PersonRemoved": lambda s, d: replace(s, people=_without(s.people, d["id"])),
}
