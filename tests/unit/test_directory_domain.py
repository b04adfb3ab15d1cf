"""The district directory: deciding events from a wanted directory, and its file."""

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from contracts.registry import REGISTRY
from services.directory.domain import (
    Directory,
    DirectoryError,
    Person,
    Unit,
    decide,
    fold,
)
from services.directory.load import parse

DISTRICTS = Path(__file__).resolve().parents[2] / "deploy" / "districts"

WANG = Person("wang-jianguo", "王建国", "区长", None, "wjg@x.example.gov.cn", "138")
LI = Person("li-ming", "李明", "局长", "approvals", None, None)
APPROVALS = Unit("approvals", "区行政审批局", "li-ming", "wang-jianguo")
LIMITS = {"complaint": {"days": 15, "working": True}}
WANTED = Directory(
    "binhai",
    "滨海新区",
    LIMITS,
    people={p.id: p for p in (WANG, LI)},
    units={"approvals": APPROVALS},
)


def loaded(directory: Directory) -> Directory:
    """The state after the events of a first load."""
    return fold(decide(None, directory, "cli:test"))


def types(events) -> list[str]:
    return [e.type for e in events]


def test_a_first_load_registers_the_district_its_people_and_units():
    events = decide(None, WANTED, "cli:test", "loaded from binhai.yml")
    assert types(events) == [
        "DistrictRegistered",
        "PersonRegistered",
        "PersonRegistered",
        "UnitRegistered",
    ]
    assert events[0].data == {
        "district": "binhai",
        "name": "滨海新区",
        "time_limits": LIMITS,
    }
    assert {e.actor for e in events} == {"cli:test"}
    assert {e.reason for e in events} == {"loaded from binhai.yml"}
    assert loaded(WANTED) == WANTED


def test_loading_the_same_directory_again_decides_nothing():
    assert decide(loaded(WANTED), WANTED, "cli:test") == []


def test_a_renamed_unit_is_one_unit_changed_with_its_full_values():
    renamed = replace(APPROVALS, name="区政务服务和行政审批局")
    events = decide(loaded(WANTED), replace(WANTED, units={"approvals": renamed}), "a")
    assert types(events) == ["UnitChanged"]
    assert events[0].data == {
        "code": "approvals",
        "name": "区政务服务和行政审批局",
        "main_leader": "li-ming",
        "leader_in_charge": "wang-jianguo",
    }


def test_a_person_left_out_is_removed_after_the_units_that_no_longer_need_them():
    zhang = Person("zhang-wei", "张伟", "局长", "approvals")
    new_leader = replace(APPROVALS, main_leader="zhang-wei")
    wanted = replace(
        WANTED,
        people={"wang-jianguo": WANG, "zhang-wei": zhang},
        units={"approvals": new_leader},
    )
    events = decide(loaded(WANTED), wanted, "a")
    assert types(events) == ["PersonRegistered", "UnitChanged", "PersonRemoved"]
    assert events[-1].data == {"id": "li-ming"}
    assert fold([*decide(None, WANTED, "a"), *events]) == wanted


def test_a_unit_left_out_is_removed_and_new_time_limits_change_the_district():
    wanted = replace(WANTED, units={}, time_limits={})
    events = decide(loaded(WANTED), wanted, "a")
    assert types(events) == ["DistrictChanged", "UnitRemoved"]
    assert events[1].data == {"code": "approvals"}


def test_one_districts_directory_cannot_become_anothers():
    with pytest.raises(DirectoryError, match="directory of binhai"):
        decide(loaded(WANTED), replace(WANTED, district="jinghai"), "a")


# ---- the file --------------------------------------------------------------------


def write(tmp_path, data, name="binhai.yml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def raw() -> dict:
    return {
        "district": "binhai",
        "name": "滨海新区",
        "time_limits": LIMITS,
        "people": [
            {"id": "wang-jianguo", "name": "王建国", "title": "区长"},
            {"id": "li-ming", "name": "李明", "unit": "approvals"},
        ],
        "units": [
            {
                "code": "approvals",
                "name": "区行政审批局",
                "main_leader": "li-ming",
                "leader_in_charge": "wang-jianguo",
            }
        ],
    }


def test_a_file_parses_to_the_directory_it_describes(tmp_path):
    parsed = parse(write(tmp_path, raw()))
    assert parsed.units == {"approvals": APPROVALS}
    assert parsed.people["li-ming"] == Person("li-ming", "李明", unit="approvals")
    assert parsed.time_limits == LIMITS


def refused(tmp_path, data, name="binhai.yml") -> str:
    with pytest.raises(DirectoryError) as error:
        parse(write(tmp_path, data, name))
    return str(error.value)


def test_an_unknown_leader_is_named_with_its_place(tmp_path):
    data = raw()
    data["units"][0]["main_leader"] = "li-mingg"
    assert refused(tmp_path, data) == (
        "binhai.yml: units[0].main_leader: no person 'li-mingg'"
    )
    data["units"][0]["leader_in_charge"] = "nobody"
    assert refused(tmp_path, data).endswith("no person 'li-mingg' (and 1 more)")


def test_a_duplicate_unit_code_is_refused(tmp_path):
    data = raw()
    data["units"].append({**data["units"][0], "name": "又一个审批局"})
    assert refused(tmp_path, data) == (
        "binhai.yml: units[1].code: duplicate code 'approvals'"
    )


def test_a_bad_unit_code_is_refused_with_its_pattern(tmp_path):
    data = raw()
    data["units"][0]["code"] = "Approvals"
    assert refused(tmp_path, data) == (
        "binhai.yml: units[0].code: 'Approvals' is not a unit code"
        " (^[a-z][a-z0-9_]{0,63}$)"
    )


def test_a_persons_unknown_unit_a_misspelt_key_and_a_bad_district_are_refused(
    tmp_path,
):
    data = raw()
    data["people"][1]["unit"] = "approval"
    assert refused(tmp_path, data) == "binhai.yml: people[1].unit: no unit 'approval'"
    data = raw()
    data["units"][0]["main_leadr"] = data["units"][0].pop("main_leader")
    assert "units[0].main_leader: Missing data" in refused(tmp_path, data)
    data = {**raw(), "district": "Binhai"}
    assert refused(tmp_path, data, "Binhai.yml").startswith(
        "Binhai.yml: district: 'Binhai' is not a district code"
    )


def test_time_limits_name_known_kinds_with_both_days_and_working(tmp_path):
    data = {**raw(), "time_limits": {"complaint": {"days": 15}}}
    assert refused(tmp_path, data) == (
        "binhai.yml: time_limits.complaint.working: Missing data for required field."
    )
    data = {**raw(), "time_limits": {"urgent": {"days": True, "working": False}}}
    assert refused(tmp_path, data) == (
        "binhai.yml: time_limits.urgent.days: Not a valid integer."
    )
    data = {**raw(), "time_limits": {"complaints": {"days": 15, "working": True}}}
    assert refused(tmp_path, data) == (
        "binhai.yml: time_limits.complaints: Unknown field."
    )


def test_a_file_must_be_named_after_its_district(tmp_path):
    assert refused(tmp_path, raw(), "dongli.yml") == (
        "dongli.yml: holds district 'binhai'; its file must be named binhai.yml"
    )


def test_missing_empty_and_broken_files_are_one_line_each(tmp_path):
    with pytest.raises(DirectoryError, match="nowhere.yml: no such file"):
        parse(tmp_path / "nowhere.yml")
    (tmp_path / "binhai.yml").write_text("")
    with pytest.raises(DirectoryError, match="binhai.yml: expected a mapping"):
        parse(tmp_path / "binhai.yml")
    (tmp_path / "binhai.yml").write_text("district: [binhai\n")
    with pytest.raises(DirectoryError, match="binhai.yml: not valid YAML at line 2"):
        parse(tmp_path / "binhai.yml")


@pytest.mark.parametrize("name", ["binhai.yml", "jinghai.yml"])
def test_the_shipped_districts_are_valid(name):
    directory = parse(DISTRICTS / name)
    assert directory.district == name.removesuffix(".yml")
    assert all(u.main_leader in directory.people for u in directory.units.values())


# ---- the public contract ---------------------------------------------------------


def test_every_event_round_trips_its_contract_and_publishes_no_contact_data():
    renamed = replace(
        WANTED,
        name="新区",
        people={**WANTED.people, "li-ming": replace(LI, title="主任")},
        units={"approvals": replace(APPROVALS, name="区审批局")},
    )
    events = [
        *decide(None, parse(DISTRICTS / "binhai.yml"), "a"),
        *decide(loaded(WANTED), renamed, "a"),
        *decide(loaded(WANTED), replace(WANTED, people={}, units={}), "a"),
    ]
    for event in events:
        version, public = REGISTRY.public(event.type, event.schema_version, event.data)
        assert REGISTRY.owners[event.type] == "directory"
        assert REGISTRY.validate(event.type, version, public) == public
        assert not {"email", "phone"} & set(public)
    assert set(types(events)) == {
        f"{thing}{verb}"
        for thing in ("District", "Unit", "Person")
        for verb in ("Registered", "Changed", "Removed")
    } - {"DistrictRemoved"}
