"""Bearer tokens as an operator issues them and as the gateway checks them."""

import hashlib
import secrets
import subprocess
import sys
import time
from datetime import timedelta

import psycopg
import pytest

from contracts.registry import REGISTRY
from eventlog.handler import handle
from eventlog.model import NewEvent
from eventlog.rebuild import rebuild
from eventlog.store import EventStore
from eventlog.tenancy import district_scope
from liuhen import cli
from liuhen.launcher import DISTRICTS  # the shipped demo directory
from services.gateway.auth import (
    AuthError,
    ScopeError,
    acting_in,
    authenticate,
    issue,
    project,
)
from services.gateway.rebuild import REBUILD
from services.gateway.tokens import tokens_of
from tests.integration.test_cli import liuhen, one_line


@pytest.fixture(scope="module", autouse=True)
def districts(database):
    done = liuhen(database, "directory", "load", *map(str, DISTRICTS.glob("*.yml")))
    assert done.returncode == 0, done.stderr


def test_a_created_token_authenticates_with_its_district_role_and_unit(database):
    done = liuhen(
        database,
        "token",
        "create",
        "--district",
        "binhai",
        "--role",
        "unit_handler",
        "--unit",
        "housing",
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    with psycopg.connect(database.app, autocommit=True) as conn:
        who = authenticate(conn, f"Bearer {token}")
        assert (who.district, who.role, who.unit) == (
            "binhai",
            "unit_handler",
            "housing",
        )
        secret = token.split("_", 2)[2]  # lh_<id>_<secret>; a secret may hold "_"
        # Only the hash is kept: the secret is in no event and no row.
        rows = conn.execute(
            "SELECT count(*) FROM eventlog.events WHERE data::text LIKE %s",
            (f"%{secret}%",),
        ).fetchone()[0]
        assert rows == 0
        with district_scope(conn, "binhai"):  # the table is under row-level security
            stored = conn.execute(
                "SELECT secret_hash FROM gateway.tokens WHERE token_id = %s",
                (who.token_id,),
            ).fetchone()[0]
        assert bytes(stored) == hashlib.sha256(secret.encode()).digest()
        with pytest.raises(AuthError):
            authenticate(conn, f"Bearer {token[:-1]}{'A' if token[-1] != 'A' else 'B'}")


@pytest.mark.parametrize(
    "args, says",
    [
        (["--district", "binhai", "--role", "wizard"], "no role 'wizard'"),
        (["--district", "binhai", "--role", "unit_handler"], "needs --unit"),
        (["--district", "binhai", "--role", "intake", "--unit", "housing"], "needs"),
        (
            ["--district", "binhai", "--role", "unit_handler", "--unit", "moon"],
            "no unit 'moon'",
        ),
        (["--district", "atlantis", "--role", "intake"], "no district 'atlantis'"),
        (["--district", "Bad District", "--role", "intake"], "not a district code"),
    ],
)
def test_a_bad_token_request_exits_2_with_one_line(database, args, says):
    done = liuhen(database, "token", "create", *args)
    assert done.returncode == 2
    assert says in done.stderr and done.stderr.count("\n") == 1
    assert done.stdout == ""


# ---- expiry, revocation, row-level security, city scope ------------------------------


def created(database, *args) -> str:
    done = liuhen(database, "token", "create", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def token_id(token: str) -> str:
    return token.split("_")[1]


def who_of(database, token: str, named: str | None = None):
    with psycopg.connect(database.app, autocommit=True) as conn:
        return acting_in(conn, authenticate(conn, f"Bearer {token}"), named)


def refused(database, token: str) -> AuthError:
    with psycopg.connect(database.app, autocommit=True) as conn:
        with pytest.raises(AuthError) as caught:
            authenticate(conn, f"Bearer {token}")
    return caught.value


def test_a_token_expires_after_90_days_unless_issued_for_another_time(database):
    default = created(database, "--district", "binhai", "--role", "intake")
    short = created(
        database, "--district", "binhai", "--role", "admin", "--expires-in", "2h"
    )
    with psycopg.connect(database.app, autocommit=True) as conn:
        with district_scope(conn, "binhai"):
            left = {
                t: conn.execute(
                    "SELECT expires_at - now() FROM gateway.tokens WHERE token_id = %s",
                    (token_id(t),),
                ).fetchone()[0]
                for t in (default, short)
            }
        issued = EventStore(conn).read_stream(f"token-{token_id(short)}")[0]
    assert timedelta(days=89, hours=23) < left[default] <= timedelta(days=90)
    assert timedelta(hours=1, minutes=59) < left[short] <= timedelta(hours=2)
    assert issued.type == "TokenIssued" and "expires_at" in issued.data


@pytest.mark.parametrize(
    "given, says",
    [
        ("forever", "give a number and a unit"),
        ("0d", "give a number and a unit"),
        ("90", "give a number and a unit"),
        ("1y", "give a number and a unit"),
        ("367d", "at most 366 days"),
    ],
)
def test_a_bad_lifetime_exits_2_with_one_line(database, given, says):
    done = liuhen(
        database,
        "token",
        "create",
        "--district",
        "binhai",
        "--role",
        "intake",
        "--expires-in",
        given,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and says in done.stderr


def test_an_expired_token_is_refused_saying_so(database):
    with psycopg.connect(database.app, autocommit=True) as conn:
        tid, token = issue(
            EventStore(conn), "binhai", "intake", expires_in=timedelta(seconds=1)
        )
    assert who_of(database, token).token_id == tid
    time.sleep(1.2)
    error = refused(database, token)
    assert (error.reason, error.token_id) == ("expired", tid)
    assert f"token {tid} expired at" in str(error)


def test_a_revoked_token_is_refused_and_the_revocation_is_an_event(database):
    token = created(database, "--district", "jinghai", "--role", "inspector")
    tid = token_id(token)
    done = liuhen(database, "token", "revoke", tid, "--reason", "laptop stolen")
    assert done.returncode == 0, done.stderr
    assert f"token {tid} (inspector in jinghai): revoked at" in done.stdout
    error = refused(database, token)
    assert (error.reason, error.token_id) == ("revoked", tid)
    assert "was revoked at" in str(error)
    # Revoking again changes nothing; an unknown token is a one-line failure.
    assert liuhen(database, "token", "revoke", tid).returncode == 0
    with psycopg.connect(database.app, autocommit=True) as conn:
        events = EventStore(conn).read_stream(f"token-{tid}")
        with district_scope(conn, "jinghai"):
            [view] = tokens_of(conn, "jinghai", tid)
    assert [e.type for e in events] == ["TokenIssued", "TokenRevoked"]
    assert (events[1].district, events[1].reason) == ("jinghai", "laptop stolen")
    assert (view["status"], view["revoked_reason"]) == ("revoked", "laptop stolen")
    done = liuhen(database, "token", "revoke", "nosuchtokn")
    assert done.returncode == 2 and "no token 'nosuchtokn'" in done.stderr


def test_a_pasted_token_is_refused_without_echoing_any_of_it(database):
    token = created(database, "--district", "binhai", "--role", "intake")
    for pasted in (token, token[:20], "lh_"):
        done = liuhen(database, "token", "revoke", pasted)
        assert done.returncode == 2
        line = one_line(done)
        assert "give the token id, not the token" in line
        assert token_id(token) not in line and token.split("_", 2)[2][:4] not in line
    assert who_of(database, token).role == "intake"  # still valid


def test_a_reason_the_log_cannot_keep_exits_2_with_one_line(
    database, monkeypatch, capsys
):
    token = created(database, "--district", "binhai", "--role", "intake")
    # No process can be given a NUL in its arguments: the CLI's own main() can,
    # leaving structlog's configuration (and this process's stderr) as it was.
    for name, value in database.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(cli.logs, "configure", lambda **kw: None)
    for reason in ("laptop\x00stolen", "x" * 501):
        assert cli.main(["token", "revoke", token_id(token), "--reason", reason]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1, err
        assert err.startswith("liuhen: ") and "reason" in err
    # Bytes that are not UTF-8 arrive as lone surrogates: refused as well.
    done = subprocess.run(
        [sys.executable, "-m", "liuhen", "token", "revoke", token_id(token)]
        + ["--reason", b"stolen \xff"],
        env=database.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "reason" in one_line(done)
    assert who_of(database, token).role == "intake"  # not revoked


def test_a_wrong_secret_and_an_unknown_id_are_told_apart_only_in_the_log(database):
    token = created(database, "--district", "binhai", "--role", "intake")
    wrong = refused(database, token[:-1] + ("A" if token[-1] != "A" else "B"))
    unknown = refused(database, "lh_zzzzzzzzzz_" + token.split("_", 2)[2])
    assert str(wrong) == str(unknown) == "the token is not valid"
    assert (wrong.reason, unknown.reason) == ("wrong_secret", "unknown_token")
    assert refused(database, "lh_short").reason == "malformed"


def test_tokens_are_read_by_district_or_by_the_id_presented_only(database):
    binhai = token_id(created(database, "--district", "binhai", "--role", "intake"))
    jinghai = token_id(created(database, "--district", "jinghai", "--role", "intake"))
    count = "SELECT count(*) FROM gateway.tokens"
    with psycopg.connect(database.app, autocommit=True) as conn:
        assert conn.execute(count).fetchone()[0] == 0  # outside any district
        with district_scope(conn, "binhai"):
            ids = {r[0] for r in conn.execute("SELECT token_id FROM gateway.tokens")}
        assert binhai in ids and jinghai not in ids
        with conn.transaction():
            conn.execute("SELECT set_config('liuhen.token_id', %s, true)", (jinghai,))
            assert conn.execute("SELECT token_id FROM gateway.tokens").fetchall() == [
                (jinghai,)
            ]
            # The id presented shows its row; it lets nobody write it.
            conn.execute("UPDATE gateway.tokens SET revoked_at = now()")
            assert conn.execute("SELECT revoked_at FROM gateway.tokens").fetchone() == (
                None,
            )
        assert conn.execute(count).fetchone()[0] == 0  # the setting did not linger
        with pytest.raises(AuthError):
            authenticate(conn, f"Bearer lh_{binhai}_{'A' * 43}")
        assert conn.execute(
            "SELECT coalesce(current_setting('liuhen.token_id', true), '')"
        ).fetchone() == ("",)


def test_what_a_token_may_do_cannot_be_rewritten_even_in_its_district(database):
    tid = token_id(created(database, "--district", "binhai", "--role", "intake"))
    with psycopg.connect(database.app, autocommit=True) as conn:
        for column, value in [("role", "admin"), ("district", "jinghai")]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                with district_scope(conn, "binhai"):
                    conn.execute(
                        f"UPDATE gateway.tokens SET {column} = %s WHERE token_id = %s",
                        (value, tid),
                    )


def test_a_token_issued_before_expiry_existed_lives_the_default_lifetime(database):
    OLD_ID = "old" + secrets.token_hex(4)[:7]  # noqa: N806 (a token id, as issued)
    # A TokenIssued of before: no expires_at in its data. It still loads through its
    # schema, and its token expires 90 days after its issue.
    public = {"token_id": OLD_ID, "role": "intake", "subject": "intake-old"}
    assert REGISTRY.validate("TokenIssued", 1, public)["expires_at"] is None
    old = {**public, "unit": None, "secret_hash": "ab" * 32}
    with psycopg.connect(database.app, autocommit=True) as conn:
        store = EventStore(conn)
        [event] = handle(
            store,
            f"token-{OLD_ID}",
            "binhai",
            fold=lambda history: None,
            decide=lambda _: [NewEvent("TokenIssued", old, actor="test")],
            project=project,
        )
        [view] = tokens_of(conn, "binhai", OLD_ID)
    assert view["expires_at"] == event.occurred_at + timedelta(days=90)


def test_a_city_token_acts_in_the_district_it_names_and_nowhere_by_default(database):
    city = created(database, "--district", "city", "--role", "city")
    assert who_of(database, city, "binhai").district == "binhai"
    jinghai = who_of(database, city, "jinghai")
    assert (jinghai.district, jinghai.home, jinghai.role) == ("jinghai", "city", "city")
    for named, says in [(None, "X-Liuhen-District"), ("atlantis", "no district")]:
        with pytest.raises(ScopeError, match=says) as caught:
            who_of(database, city, named)
        assert caught.value.status == 422
    admin = created(database, "--district", "binhai", "--role", "admin")
    assert who_of(database, admin, "binhai").district == "binhai"
    assert who_of(database, admin).district == "binhai"
    with pytest.raises(ScopeError, match="acts only there") as caught:
        who_of(database, admin, "jinghai")
    assert caught.value.status == 403


def test_a_rebuild_gives_back_every_token_as_it_was_revoked_or_not(database):
    revoked = token_id(created(database, "--district", "binhai", "--role", "admin"))
    assert liuhen(database, "token", "revoke", revoked, "--reason", "r").returncode == 0
    with psycopg.connect(database.app, autocommit=True) as conn:
        before = {d: tokens_of(conn, d) for d in ("binhai", "jinghai", "city")}
    with psycopg.connect(database.admin, autocommit=True) as admin:
        rebuild(admin, REBUILD)
    with psycopg.connect(database.app, autocommit=True) as conn:
        after = {d: tokens_of(conn, d) for d in ("binhai", "jinghai", "city")}
    assert after == before and revoked in {t["token_id"] for t in after["binhai"]}
