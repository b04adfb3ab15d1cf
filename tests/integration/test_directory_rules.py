"""A district's own rules in its directory file (the `assessment` rule table and the
`accountability` settings): checked by the loader, recorded as events, read with the
defaults under them. Each test changes a district of its own (a copy of binhai.yml).
"""

import uuid

import pytest
import yaml

from eventlog.tenancy import district_scope
from services.directory import read
from services.directory.load import DirectoryError, load, parse
from services.directory.rules import DEFAULT_ACCOUNTABILITY, DEFAULT_ASSESSMENT
from tests.integration.test_directory import BINHAI, JINGHAI


def copy(tmp_path, change=None, code=None) -> tuple[str, object]:
    code = code or f"t{uuid.uuid4().hex[:10]}"
    data = yaml.safe_load(BINHAI.read_text(encoding="utf-8"))
    data["district"] = code
    if change:
        change(data)
    path = tmp_path / f"{code}.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return code, path


def district(conn, code) -> dict:
    with district_scope(conn, code):
        return read.district(conn, code)


def test_the_files_rule_table_is_recorded_and_read_back(store, conn, tmp_path):
    code, path = copy(tmp_path)
    [registered, *_] = load(store, path, "test:rules")
    recorded = registered.data["assessment"]
    assert [i["code"] for i in recorded["items"]] == ["work_style", "public_appraisal"]
    assert recorded["items"][0]["deductions"][2] == {  # decimals as text in events
        "event": "ComplaintReturned",
        "where": {},
        "points": "0.5",
    }
    found = district(conn, code)
    assert found["assessment"] == recorded
    assert found["accountability"] == {
        "dual_investigation_from": "admonishment_talk",
        "appeal_days": 30,
    }
    assert load(store, path, "test:rules") == []  # unchanged: nothing appended


def test_a_district_without_the_sections_reads_the_defaults(store, conn):
    load(store, JINGHAI, "test:rules")
    found = district(conn, "jinghai")
    assert found["assessment"] == DEFAULT_ASSESSMENT
    assert found["accountability"] == DEFAULT_ACCOUNTABILITY


def test_a_changed_rule_is_one_district_changed_and_a_partial_setting_keeps_defaults(
    store, conn, tmp_path
):
    code, path = copy(tmp_path)
    load(store, path, "test:rules")

    def dearer(data):
        data["assessment"]["items"][0]["deductions"][0]["points"] = 3
        data["accountability"] = {"appeal_days": 15}

    copy(tmp_path, dearer, code)
    [changed] = load(store, path, "test:rules")
    assert changed.type == "DistrictChanged"
    assert changed.data["assessment"]["items"][0]["deductions"][0]["points"] == "3"
    found = district(conn, code)
    assert found["assessment"]["items"][0]["deductions"][0]["points"] == "3"
    assert found["accountability"] == {
        "dual_investigation_from": "admonishment_talk",
        "appeal_days": 15,
    }
    assert load(store, path, "test:rules") == []


def test_dropping_the_sections_returns_the_district_to_the_defaults(
    store, conn, tmp_path
):
    code, path = copy(tmp_path)
    load(store, path, "test:rules")

    def without(data):
        del data["assessment"], data["accountability"]

    copy(tmp_path, without, code)
    [changed] = load(store, path, "test:rules")
    assert changed.type == "DistrictChanged"
    assert "assessment" not in changed.data
    assert district(conn, code)["assessment"] == DEFAULT_ASSESSMENT
    assert load(store, path, "test:rules") == []


def _rule(data):
    return data["assessment"]["items"][0]["deductions"][0]


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda d: _rule(d).update(event="ComplaintOverdu"),
            "assessment.items[0].deductions[0].event: unknown event type "
            "'ComplaintOverdu'; one of ComplaintOverdue,",
        ),
        (
            lambda d: _rule(d).update(where={"ratng": "dissatisfied"}),
            "assessment.items[0].deductions[0].where: ComplaintOverdue publishes "
            "no field 'ratng'; it has due_at, unit",
        ),
        (
            lambda d: _rule(d).update(points=0),
            "assessment.items[0].deductions[0].points: 0 is not more than 0",
        ),
        (
            lambda d: _rule(d).update(points=0.125),
            "assessment.items[0].deductions[0].points: 0.125 has more than two",
        ),
        (
            lambda d: _rule(d).update(points="lots"),
            "assessment.items[0].deductions[0].points: Not a valid number.",
        ),
        (
            lambda d: d["assessment"]["items"][1].update(points=20),
            "assessment.items: the items' points add up to 110, not 100",
        ),
        (
            lambda d: d["assessment"]["items"][1].update(code="work_style"),
            "assessment.items: item code 'work_style' appears twice",
        ),
        (
            lambda d: d["assessment"].update(bottom=-1),
            "assessment.bottom: Must be greater than or equal to 0",
        ),
        (
            lambda d: d["accountability"].update(dual_investigation_from="talk"),
            "accountability.dual_investigation_from: 'talk' is not a measure; one of "
            "criticism_education,",
        ),
        (
            lambda d: d["accountability"].update(appeal_days="30"),
            "accountability.appeal_days: Not a valid integer.",
        ),
        (
            lambda d: d["accountability"].update(appeal_day=30),
            "accountability.appeal_day: Unknown field.",
        ),
    ],
)
def test_a_bad_rule_table_or_setting_is_refused_in_one_line(tmp_path, change, message):
    code, path = copy(tmp_path, change)
    with pytest.raises(DirectoryError) as error:
        parse(path)
    assert str(error.value).startswith(f"{code}.yml: {message}"), str(error.value)
    assert "\n" not in str(error.value)


def test_a_refused_file_records_nothing(store, conn, tmp_path):
    code, path = copy(tmp_path, lambda d: _rule(d).update(event="IssueClosed"))
    with pytest.raises(DirectoryError, match="unknown event type 'IssueClosed'"):
        load(store, path, "test:rules")
    assert store.read_stream(f"directory-{code}") == []
