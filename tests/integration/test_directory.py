"""The district directory on a real database: loading files, the read model under
row-level security, and `liuhen directory load` as an operator runs it.

Other tests share the session database and may have loaded the shipped districts
already: tests that change a directory do so in a district of their own, a copy of
binhai.yml under a random code.
"""

import uuid
from pathlib import Path

import psycopg
import pytest
import yaml

from eventlog.tenancy import district_scope
from liuhen.launcher import load_districts
from services.directory import read
from services.directory.load import load
from tests.integration.test_cli import liuhen

DISTRICTS = Path(__file__).resolve().parents[2] / "deploy" / "districts"
BINHAI, JINGHAI = DISTRICTS / "binhai.yml", DISTRICTS / "jinghai.yml"
_shipped = yaml.safe_load(BINHAI.read_text(encoding="utf-8"))
FIRST_LOAD = 1 + len(_shipped["people"]) + len(_shipped["units"])  # events of binhai


def copy_of_binhai(tmp_path, code=None, unit_names=None) -> tuple[str, Path]:
    """binhai.yml as district `code` (default a new random one), with units renamed:
    `unit_names` = {index: new name}."""
    code = code or f"t{uuid.uuid4().hex[:10]}"
    data = yaml.safe_load(BINHAI.read_text(encoding="utf-8"))
    data["district"] = code
    for index, name in (unit_names or {}).items():
        data["units"][index]["name"] = name
    path = tmp_path / f"{code}.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return code, path


def test_loading_the_shipped_districts_twice_appends_nothing_the_second_time(store):
    for path in (BINHAI, JINGHAI):
        load(store, path, "test:directory")
        assert load(store, path, "test:directory") == []


def test_a_changed_unit_name_appends_exactly_one_unit_changed(store, tmp_path):
    code, path = copy_of_binhai(tmp_path)
    first = load(store, path, "test:directory")
    assert first[0].type == "DistrictRegistered" and len(first) == FIRST_LOAD
    copy_of_binhai(tmp_path, code, unit_names={1: "区政务服务和行政审批局"})
    [changed] = load(store, path, "test:directory")
    assert (changed.type, changed.stream_id) == ("UnitChanged", f"directory-{code}")
    assert changed.reason == f"loaded from {code}.yml"
    with district_scope(store.conn, code):
        assert read.unit(store.conn, "approvals")["name"] == "区政务服务和行政审批局"
        assert read.district(store.conn, code)["version"] == FIRST_LOAD + 1


def test_a_district_reads_its_own_directory_and_never_anothers(store, conn):
    for path in (BINHAI, JINGHAI):
        load(store, path, "test:directory")
    with district_scope(conn, "binhai"):
        codes = {u["code"] for u in read.units(conn)}
        assert {"approvals", "discipline", "xingang_street"} <= codes
        assert "jinghai_town" not in codes
        assert read.unit(conn, "jinghai_town") is None
        assert read.person(conn, "deng-wenjie") is None  # jinghai's
        assert read.district(conn, "jinghai") is None
        binhai = read.district(conn, "binhai")
        assert binhai["name"] == "滨海新区"
        assert binhai["time_limits"]["complaint"] == {"days": 15, "working": True}
        assert read.leaders(conn, "approvals") == {
            "main_leader": read.person(conn, "zhang-wei"),
            "leader_in_charge": read.person(conn, "liu-fang"),
        }
        assert read.person(conn, "zhang-wei")["email"] == (
            "zhangwei@binhai.example.gov.cn"
        )
        assert read.leaders(conn, "nowhere") == {
            "main_leader": None,
            "leader_in_charge": None,
        }
    with district_scope(conn, "jinghai"):
        assert {u["code"] for u in read.units(conn)} == {
            "approvals",
            "market_regulation",
            "government_services",
            "jinghai_town",
        }
    # Outside a scope no row matches: forgetting the scope shows nothing.
    assert read.units(conn) == []
    assert read.district(conn, "binhai") is None


def test_the_application_role_cannot_write_another_districts_directory(store, conn):
    load(store, JINGHAI, "test:directory")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with district_scope(conn, "binhai"):
            conn.execute(
                "INSERT INTO directory.units VALUES ('jinghai', 'x', 'x', 'a', 'b')"
            )
    with district_scope(conn, "binhai"):
        updated = conn.execute(
            "UPDATE directory.units SET name = 'x' WHERE district = 'jinghai'"
        )
        assert updated.rowcount == 0


def test_up_loads_every_shipped_district(database):
    lines = list(load_districts(database.app))
    # city: the level above the districts (sealed complaints land there)
    assert [line.split(":")[0] for line in lines] == ["binhai", "city", "jinghai"]
    assert list(load_districts(database.app)) == [
        "binhai: up to date",
        "city: up to date",
        "jinghai: up to date",
    ]


def test_the_cli_loads_a_file_and_says_what_it_appended(database, tmp_path):
    code, path = copy_of_binhai(tmp_path)
    done = liuhen(database, "directory", "load", str(path))
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"{code}: {FIRST_LOAD} events appended\n",
        "",
    )
    again = liuhen(database, "directory", "load", str(path), str(BINHAI))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == f"{code}: up to date"
    assert again.stdout.splitlines()[1].startswith("binhai: ")


def test_the_cli_refuses_a_bad_file_in_one_line_and_loads_nothing(database, tmp_path):
    code, good = copy_of_binhai(tmp_path)
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "district: bad\nname: 坏区\npeople: []\nunits:\n"
        "  - {code: approvals, name: 区行政审批局, main_leader: li-mingg,"
        " leader_in_charge: li-mingg}\n"
    )
    done = liuhen(database, "directory", "load", str(good), str(bad))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == (
        "liuhen: bad.yml: units[0].main_leader: no person 'li-mingg' (and 1 more)"
    )
    missing = liuhen(database, "directory", "load", str(tmp_path / "none.yml"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"liuhen: {tmp_path / 'none.yml'}: no such file"
    # The good file before the bad one was not recorded either.
    loaded = liuhen(database, "directory", "load", str(good))
    assert loaded.stdout == f"{code}: {FIRST_LOAD} events appended\n"
