"""Sealed complaints, the pure parts: when a new complaint is about a principal leader
of the district that receives it, and what the level above records of the forwarding.

The platform end to end (nothing of it reaches the district): tests/e2e/
test_sealed_complaints.py.
"""

from pathlib import Path

import pytest

from contracts.registry import REGISTRY
from eventlog.deadlines import OfficialCalendar
from services.complaints.commands import Actor, ReceiveComplaint
from services.complaints.domain import Complaint, decide
from services.complaints.sealed import Seal, named, seal
from services.directory.load import DirectoryError, parse
from tests.unit.stories import at

DISTRICTS = Path(__file__).resolve().parents[2] / "deploy" / "districts"
BINHAI = {"district": "binhai", "level_above": "city"}
LEADERS = {"zhao-hongwei": "赵宏伟", "wang-jianguo": "王建国", "zheng-lihua": "郑丽华"}
CLERK = Actor("intake-7k3m", "intake")


def test_a_complaint_naming_no_principal_leader_and_not_flagged_is_not_sealed():
    body = {"persons": ["窗口工作人员", "李明"], "unit_complained": "approvals"}
    assert seal("binhai", BINHAI, LEADERS, body) is None
    assert seal("binhai", BINHAI, LEADERS, {}) is None


def test_the_intake_flag_seals_it_for_the_level_above():
    found = seal("binhai", BINHAI, LEADERS, {"about_principal_leader": True})
    assert found == Seal("binhai", "city", True, (), None)


@pytest.mark.parametrize(
    "persons",
    [["王建国"], ["wang-jianguo"], [" 王 建国 "], ["WANG-JIANGUO", "某科员"]],
)
def test_naming_a_principal_leader_seals_it_whatever_the_clerk_says(persons):
    body = {"persons": persons, "about_principal_leader": False}
    found = seal("binhai", BINHAI, LEADERS, body)
    assert (found.to, found.principal_leaders) == ("city", ("wang-jianguo",))
    assert found.flagged_by_intake is False


def test_several_leaders_named_are_all_recorded_in_the_directorys_order():
    assert named(["郑丽华", "赵宏伟"], LEADERS) == ("zhao-hongwei", "zheng-lihua")


def test_a_district_with_no_level_above_gives_a_seal_with_nowhere_to_go():
    # The handler refuses it (Invalid) rather than record it in the district.
    found = seal("city", {"district": "city"}, {}, {"about_principal_leader": True})
    assert found.to is None


def test_the_level_above_records_who_received_it_and_why_and_publishes_none_of_it():
    trace = Seal("binhai", "city", True, ("zheng-lihua",), "discipline")
    cmd = ReceiveComplaint(
        id="C-2026-7K3M9QXA",
        channel="12388",
        kind="report",
        category="favours",
        description="区纪委书记收受礼金",
        by=CLERK,
        persons=("郑丽华",),
        forwarded_from=trace.record(),
    )
    [event] = decide(Complaint(), cmd, at(9, 14), OfficialCalendar())
    assert event.data["forwarded_from"] == {
        "district": "binhai",
        "unit_complained": "discipline",
        "flagged_by_intake": True,
        "principal_leaders": ["zheng-lihua"],
    }
    assert event.actor == "intake:intake-7k3m"  # the clerk: first contact
    assert event.reason.startswith("received in binhai, about a principal leader")
    _, public = REGISTRY.public(event.type, event.schema_version, event.data)
    assert "forwarded_from" not in public and "persons" not in public
    assert event.type not in REGISTRY.public_reasons


def test_an_ordinary_complaint_records_no_forwarding():
    cmd = ReceiveComplaint(
        id="C-2026-7K3M9QXB",
        channel="12345",
        kind="complaint",
        category="shirking",
        description="窗口来回推",
        by=CLERK,
    )
    [event] = decide(Complaint(), cmd, at(9, 14), OfficialCalendar())
    assert "forwarded_from" not in event.data and event.reason is None


def test_the_receipt_names_neither_the_complaint_nor_its_id():
    receipt = Seal("binhai", "city", True, (), None).receipt("ABCD-EFGH-JKMN")
    assert receipt == {
        "sealed": True,
        "forwarded_to": "city",
        "query_code": "ABCD-EFGH-JKMN",
    }


# ---- the directory says who the principal leaders are --------------------------


def test_a_principal_leader_must_be_a_person_of_the_file(tmp_path):
    path = tmp_path / "binhai.yml"
    path.write_text(
        "district: binhai\nname: 滨海新区\nprincipal_leaders: [nobody]\n"
        "people: []\nunits: []\n",
        encoding="utf-8",
    )
    with pytest.raises(DirectoryError, match=r"principal_leaders\[0\]: no person"):
        parse(path)


def test_a_district_is_not_its_own_level_above(tmp_path):
    path = tmp_path / "binhai.yml"
    path.write_text(
        "district: binhai\nname: 滨海新区\nlevel_above: binhai\npeople: []\n"
        "units: []\n",
        encoding="utf-8",
    )
    with pytest.raises(DirectoryError, match="level_above: a district is not"):
        parse(path)


def test_the_shipped_districts_go_up_to_the_shipped_city():
    shipped = {path.stem: parse(path) for path in DISTRICTS.glob("*.yml")}
    assert shipped["binhai"].level_above == shipped["jinghai"].level_above == "city"
    assert shipped["city"].level_above is None  # the province is not on it
    for directory in shipped.values():
        assert set(directory.principal_leaders) <= set(directory.people)
    assert "discipline" in shipped["city"].units
