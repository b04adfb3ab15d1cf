"""Rebuilding read models from the log (eventlog/rebuild.py, `liuhen projections`).

Two districts' worth of everything (rebuild_story.py), then: every declared
projection rebuilds to the same rows it had, and leaves what it keeps untouched; a
command during a rebuild waits for it and lands after; a failure midway changes
nothing; the command line lists, rebuilds and refuses an unknown name.

Rows are compared as the migrating (superuser) role, which sees every district, in
the districts of this module: in a full run other tests leave rows that no rebuild
reproduces on purpose (events appended without their projection, a timer ticked by a
sweep: services/complaints/rebuild.py). A table without a district column (the
consumers' eventlog.processed, kept) is compared whole.
"""

import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import replace

import psycopg
import pytest
from psycopg import sql

import eventlog.rebuild
from eventlog import migrate
from eventlog.rebuild import RebuildError, rebuild
from eventlog.store import EventStore
from eventlog.tenancy import district_scope
from liuhen.projections import ALL, named
from services.complaints import handlers as complaints
from services.complaints.rebuild import REBUILD as COMPLAINTS
from tests.conftest import APP_USER, RUN, Database, liuhen
from tests.integration.rebuild_story import (
    CAL,
    INTAKE,
    SUPERVISOR,
    Story,
    day,
    handler,
)

SCHEMAS = ("complaints", "issues", "accountability", "notify", "directory", "gateway")


@pytest.fixture(scope="module")
def database():
    """A database of this module's own. A rebuild folds the whole log, and in a full
    run other tests append events to complaint streams that no projection could fold
    (bare `ComplaintReceived`s testing the store): a real log never holds those, and
    the rebuild rightly stops on them."""
    base = os.environ.get("LIUHEN_DATABASE_URL", "postgresql:///liuhen")
    name = f"liuhen_test_{RUN}_rebuild"
    with migrate.throwaway_database(base, name, APP_USER) as (admin, app):
        yield Database(name, admin, app)


@pytest.fixture(scope="module")
def districts(database, tmp_path_factory) -> list[str]:
    with psycopg.connect(database.app, autocommit=True) as conn:
        store = EventStore(conn)
        return [Story(store, tmp_path_factory.mktemp("d")).run() for _ in range(2)]


def rows(conn, table: str, districts) -> list[str]:
    """Every row of `table` in `districts` (all rows if it has no district), as JSON
    text, in order."""
    has_district = conn.execute(
        "SELECT count(*) FROM information_schema.columns WHERE"
        " table_schema || '.' || table_name = %s AND column_name = 'district'",
        (table,),
    ).fetchone()[0]
    query = sql.SQL("SELECT to_jsonb(t)::text FROM {} t").format(
        sql.Identifier(*table.split("."))
    )
    if has_district:
        query += sql.SQL(" WHERE district = ANY(%s)")
    query += sql.SQL(" ORDER BY 1")
    args = (list(districts),) if has_district else ()
    return [r[0] for r in conn.execute(query, args)]


def snapshot(conn, tables, districts) -> dict:
    return {t: rows(conn, t, districts) for t in tables}


def _total(conn, table) -> int:
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(*table.split(".")))
    return conn.execute(query).fetchone()[0]


def everything(projection) -> list[str]:
    return [*projection.tables, *(table for table, _ in projection.kept)]


@pytest.mark.parametrize("projection", ALL, ids=lambda p: p.name)
def test_a_rebuilt_model_equals_the_live_one_row_for_row(
    projection, districts, admin_conn
):
    before = snapshot(admin_conn, everything(projection), districts)
    report = rebuild(admin_conn, projection)
    after = snapshot(admin_conn, everything(projection), districts)
    for table in projection.tables:
        assert before[table], f"the story left {table} empty: it proves nothing"
        assert after[table] == before[table], table
        assert report.rows[table] == _total(admin_conn, table)
    for table, _ in projection.kept:
        assert after[table] == before[table], f"{table} is kept, yet it changed"
    assert report.events > 0


def test_a_damaged_model_is_repaired(districts, admin_conn):
    [issues] = named("issues")
    before = snapshot(admin_conn, issues.tables, districts)
    with admin_conn.transaction():  # as a superuser: past every guard
        admin_conn.execute(
            "UPDATE issues.items SET status = 'lost', version = 0 WHERE district = %s",
            (districts[0],),
        )
        admin_conn.execute(
            "DELETE FROM issues.timers WHERE district = ANY(%s)", (districts,)
        )
        admin_conn.execute(
            "INSERT INTO issues.campaigns VALUES ('CP-X', %s, 'x', '[]', now())",
            (districts[1],),
        )
    assert snapshot(admin_conn, issues.tables, districts) != before
    rebuild(admin_conn, issues)
    assert snapshot(admin_conn, issues.tables, districts) == before


def test_every_table_of_every_service_is_rebuilt_or_kept_on_purpose(admin_conn):
    found = {
        f"{schema}.{name}"
        for schema, name in admin_conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema = ANY(%s)",
            (list(SCHEMAS),),
        )
    }
    rebuilt = [t for p in ALL for t in p.tables]
    kept = {t for p in ALL for t, _ in p.kept}
    assert len(rebuilt) == len(set(rebuilt)), "a table rebuilt by two projections"
    assert not set(rebuilt) & kept
    assert found - set(rebuilt) - kept == set(), "neither rebuilt nor kept"
    assert set(rebuilt) <= found


def test_a_command_during_a_rebuild_waits_for_it_and_lands_after(
    database, districts, admin_conn
):
    district = districts[0]
    cid = signed_complaint(admin_conn, district)
    started, go = threading.Event(), threading.Event()

    def slow(store, event):
        if not started.is_set():
            started.set()
            go.wait(30)
        COMPLAINTS.project(store, event)

    done = {}
    rebuilder = threading.Thread(
        target=lambda: done.update(
            report=rebuild(admin_conn, replace(COMPLAINTS, project=slow))
        )
    )
    rebuilder.start()
    assert started.wait(10)
    with psycopg.connect(database.app, autocommit=True) as conn:
        # Readers see the old model while the new one is being made.
        assert urged(conn, district, cid) == (0, 4)
        writer = threading.Thread(
            target=lambda: complaints.execute(
                EventStore(conn), district, cid, "urge", {}, SUPERVISOR, day(40), CAL
            )
        )
        writer.start()
        time.sleep(0.5)
        assert writer.is_alive(), "the command did not wait for the rebuild"
        go.set()
        rebuilder.join(30)
        writer.join(30)
        assert urged(conn, district, cid) == (1, 5)
    assert "report" in done
    history = EventStore(admin_conn).read_stream(complaints.stream(cid))
    assert [e.type for e in history][-1] == "ComplaintUrged"


def signed_complaint(conn, district) -> str:
    """A complaint signed for (version 4), in `district`."""
    store = EventStore(conn)
    body = {"channel": "12345", "category": "slow_action", "description": "等"}
    cid = complaints.receive(store, district, body, INTAKE, day(39), CAL)["id"]
    for action, body, by in (
        ("accept", {}, INTAKE),
        ("dispatch", {"unit": "approvals"}, INTAKE),
        ("sign", {}, handler("approvals")),
    ):
        complaints.execute(store, district, cid, action, body, by, day(39), CAL)
    return cid


def urged(conn, district, cid) -> tuple[int, int]:
    with district_scope(conn, district):
        return conn.execute(
            "SELECT urged, version FROM complaints.complaints WHERE id = %s", (cid,)
        ).fetchone()


def boom(store, event):
    raise RuntimeError("a projection bug")


def bad_sql(store, event):
    store.conn.execute("INSERT INTO complaints.complaints (id) VALUES (%s)", ("x",))


@pytest.mark.parametrize("project", [boom, bad_sql], ids=["python", "sql"])
def test_a_failure_midway_leaves_the_old_model(
    project, districts, admin_conn, monkeypatch
):
    monkeypatch.setattr(eventlog.rebuild, "BATCH", 7)  # several batches before it
    half = admin_conn.execute(
        "SELECT count(*) / 2 FROM eventlog.events WHERE stream_id LIKE 'complaint-%'"
    ).fetchone()[0]
    count = 0

    def fails_midway(store, event):
        nonlocal count
        count += 1
        (project if count == half else COMPLAINTS.project)(store, event)

    tables = COMPLAINTS.tables
    before = snapshot(admin_conn, tables, districts)
    with pytest.raises(RebuildError, match="complaints: folding .* failed, nothing"):
        rebuild(admin_conn, replace(COMPLAINTS, project=fails_midway))
    assert count >= half > 20
    assert snapshot(admin_conn, tables, districts) == before


def test_a_rebuild_that_cannot_get_its_locks_gives_up_and_says_so(
    database, districts, admin_conn
):
    with psycopg.connect(database.app) as writer:  # a transaction left open
        with district_scope(writer, districts[0]):
            writer.execute("UPDATE complaints.complaints SET urged = urged")
            with pytest.raises(RebuildError, match="could not lock complaints"):
                rebuild(admin_conn, COMPLAINTS, patience=1)
        writer.rollback()


def test_a_rebuild_folds_under_each_events_district_not_as_a_superuser(
    districts, admin_conn
):
    # The rebuild's role is bound by row-level security: a projection that writes
    # a row of another district than its event's is refused, and nothing changes.
    def elsewhere(store, event):
        store.conn.execute(
            "INSERT INTO complaints.query_codes VALUES (%s, 'x', 'y')",
            (event.event_id,),
        )
        store.conn.execute(
            "INSERT INTO complaints.returns (event_id, district, complaint_id, unit,"
            " returned_at) VALUES (%s, 'nowhere', 'x', 'y', now())",
            (event.event_id,),
        )

    with pytest.raises(RebuildError, match="row-level security"):
        rebuild(admin_conn, replace(COMPLAINTS, project=elsewhere))


# ---- the command line ----------------------------------------------------------------


def test_list_names_each_projection_its_tables_and_what_it_folds(database):
    done = liuhen(database, "projections", "list")
    assert done.returncode == 0, done.stderr
    for p in ALL:
        assert re.search(rf"^{re.escape(p.name)}\s", done.stdout, re.M), p.name
        assert ", ".join(p.tables) in done.stdout
    assert "notify.webhook_secrets: the signing secrets are in no event" in done.stdout


def test_an_unknown_name_exits_2_naming_the_known_ones(database):
    done = liuhen(database, "projections", "rebuild", "complaint")
    assert done.returncode == 2
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    known = ", ".join(p.name for p in ALL)
    assert lines == [f"liuhen: no projection 'complaint'; known: {known}, or all"]


def test_the_command_rebuilds_and_ends_with_one_summary_line(
    database, districts, admin_conn
):
    [projection] = named("complaints")
    before = snapshot(admin_conn, projection.tables, districts)
    done = liuhen(database, "projections", "rebuild", "complaints")
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    tables = ", ".join(rf"{re.escape(t)} \d+" for t in projection.tables)
    assert re.fullmatch(
        rf"rebuilt complaints: \d+ events folded; rows: {tables}; [\d.]+ s", line
    ), line
    assert snapshot(admin_conn, projection.tables, districts) == before


def test_rebuild_all_rebuilds_each_in_turn(database, districts):
    done = liuhen(database, "projections", "rebuild", "all")
    assert done.returncode == 0, done.stderr
    assert [ln.split(":")[0] for ln in done.stdout.splitlines()] == [
        f"rebuilt {p.name}" for p in ALL
    ]


def test_the_application_role_may_not_rebuild(database):
    done = subprocess.run(
        [sys.executable, "-m", "liuhen", "projections", "rebuild", "gateway"],
        env={**database.env(), "LIUHEN_DATABASE_URL": database.app},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "liuhen: liuhen_app may not act as liuhen_owner, the owner of the read "
        "models: rebuild as the migrating role (LIUHEN_DATABASE_URL), not the "
        "application's"
    )
