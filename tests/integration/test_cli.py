"""The `liuhen` command and `liuhen up`, as an operator runs them."""

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.conftest import liuhen, new_stream


def test_migrate_is_idempotent(database):
    done = liuhen(database, "migrate")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "schema up to date"


def test_a_usage_error_exits_2_with_argparses_line(database):
    done = liuhen(database, "verify", "--district", "a", "--stream", "b")
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr


def one_line(done) -> str:
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_an_unreachable_database_is_named_without_its_password(database):
    url = "postgresql://someone:s3cret@127.0.0.1:1/x"
    done = liuhen(database, "verify", LIUHEN_DATABASE_URL=url)
    assert done.returncode == 2
    line = one_line(done)
    assert line.startswith("liuhen: cannot reach PostgreSQL")
    assert "s3cret" not in line and "someone:***@127.0.0.1:1" in line


@pytest.mark.parametrize("scope", ["--stream", "--district"])
def test_verifying_a_scope_without_events_exits_2(database, scope):
    missing = new_stream() if scope == "--stream" else "nowhere"
    done = liuhen(database, "verify", scope, missing)
    assert done.returncode == 2
    assert one_line(done) == f"liuhen: no events in {scope[2:]} {missing}"


@pytest.fixture
def scratch_database(database):
    """An empty database of our own, dropped afterwards; (name, admin conninfo)."""
    name = f"{database.name}_s{uuid.uuid4().hex[:6]}"
    with psycopg.connect(make_conninfo(database.admin, dbname="postgres")) as conn:
        conn.autocommit = True
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield name, make_conninfo(database.admin, dbname=name)
        finally:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


def test_verify_before_migrate_says_to_migrate_in_one_line(database, scratch_database):
    _, admin = scratch_database
    done = liuhen(database, "verify", LIUHEN_DATABASE_URL=admin)
    assert done.returncode == 2
    line = one_line(done)
    assert line.startswith("liuhen: the schema is missing; run `liuhen migrate`")


@pytest.mark.parametrize("app_user", ["liuhen_owner", "liuhen_writer", "ADMIN"])
def test_migrate_refuses_an_app_role_that_would_bypass_the_guards(
    database, admin_conn, app_user
):
    if app_user == "ADMIN":
        app_user = admin_conn.execute("SELECT current_user").fetchone()[0]
    done = liuhen(database, "migrate", LIUHEN_DB_APP_USER=app_user)
    assert done.returncode == 2
    assert one_line(done).startswith(
        f"liuhen: LIUHEN_DB_APP_USER may not be {app_user}"
    )


@pytest.fixture
def fresh_role(admin_conn):
    """A role name no one uses yet, dropped afterwards."""
    name = f"liuhen_test_{uuid.uuid4().hex[:8]}"
    yield name
    admin_conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def test_migrate_refuses_an_app_role_that_is_a_member_of_the_owner(
    database, admin_conn, fresh_role
):
    ident = sql.Identifier(fresh_role)
    admin_conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
    admin_conn.execute(
        sql.SQL("CREATE ROLE {}").format(sql.Identifier(fresh_role + "_via"))
    )
    try:
        # Indirectly: app -> via -> liuhen_owner.
        admin_conn.execute(
            sql.SQL("GRANT liuhen_owner TO {}").format(
                sql.Identifier(fresh_role + "_via")
            )
        )
        admin_conn.execute(
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(fresh_role + "_via"), ident)
        )
        done = liuhen(database, "migrate", LIUHEN_DB_APP_USER=fresh_role)
    finally:
        admin_conn.execute(
            sql.SQL("DROP ROLE {}").format(sql.Identifier(fresh_role + "_via"))
        )
    assert done.returncode == 2
    assert one_line(done).startswith(
        f"liuhen: role {fresh_role} is a member of liuhen_owner"
    )


def test_concurrent_migrations_of_two_databases_set_up_one_new_role(
    database, fresh_role
):
    """Roles are cluster-wide: runs on different databases must not race on them."""
    names = [f"{database.name}_r{i}{uuid.uuid4().hex[:4]}" for i in range(3)]
    urls = [make_conninfo(database.admin, dbname=n) for n in names]
    env = {**database.env(), "LIUHEN_DB_APP_USER": fresh_role}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "liuhen", "migrate"],
            env={**env, "LIUHEN_DATABASE_URL": url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for url in urls
    ]
    try:
        results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    finally:
        with psycopg.connect(
            make_conninfo(database.admin, dbname="postgres"), autocommit=True
        ) as conn:
            for name in names:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(name)
                    )
                )
    assert results == [(0, "")] * len(names)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_until(proc, text, timeout=60.0) -> str:
    seen, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen += line
        if text in line:
            return seen
    pytest.fail(f"{text!r} not printed; output so far:\n{seen}")


def test_up_runs_the_platform_prints_the_url_and_stops_cleanly_on_ctrl_c(
    database, amqp_uri
):
    http = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "liuhen", "up"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**database.env(), "LIUHEN_AMQP_URI": amqp_uri, "LIUHEN_HTTP": http},
    )
    try:
        read_until(proc, f"http://{http}/v1/health")
        body, deadline = None, time.monotonic() + 60
        while body is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://{http}/v1/health", timeout=5) as r:
                    body = json.loads(r.read())
            except OSError:
                time.sleep(0.3)
        assert body is not None and body["status"] == "ok"
        printed = read_until(proc, "Try: curl")
        assert "Bearer tokens for the demo district binhai" in printed
        token = re.search(r"^  intake +(lh_\S+)", printed, re.M).group(1)
        assert re.search(r"^  unit_handler +lh_\S+ +\(unit approvals\)", printed, re.M)
        # The printed token works, and the complaints service answers behind it.
        request = urllib.request.Request(
            f"http://{http}/v1/complaints",
            data=json.dumps(
                {"channel": "visit", "category": "attitude", "description": "冷脸"}
            ).encode(),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            assert r.status == 201 and json.loads(r.read())["id"].startswith("C-")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert "stopped." in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_malformed_url_is_reported_without_echoing_it(database):
    done = liuhen(
        database, "verify", LIUHEN_DATABASE_URL="postgresql://u:s%zzecret@h/db"
    )
    assert done.returncode == 2
    assert "zzecret" not in done.stderr
    assert "LIUHEN_DATABASE_URL is not a PostgreSQL URL" in done.stderr


def test_an_existing_privileged_role_is_refused_not_downgraded(database, admin_conn):
    admin_conn.execute("DROP ROLE IF EXISTS liuhen_test_admin_like")
    admin_conn.execute("CREATE ROLE liuhen_test_admin_like LOGIN CREATEDB")
    try:
        done = liuhen(database, "migrate", LIUHEN_DB_APP_USER="liuhen_test_admin_like")
        assert done.returncode == 2
        assert "looks like an administrator's account" in done.stderr
        still = admin_conn.execute(
            "SELECT rolcreatedb FROM pg_roles WHERE rolname = 'liuhen_test_admin_like'"
        ).fetchone()[0]
        assert still is True
    finally:
        admin_conn.execute("DROP ROLE liuhen_test_admin_like")
