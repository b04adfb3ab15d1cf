"""Bearer tokens as an operator issues them and as the gateway checks them."""

import hashlib

import psycopg
import pytest

from liuhen.launcher import DISTRICTS  # the shipped demo directory
from services.gateway.auth import AuthError, authenticate
from tests.integration.test_cli import liuhen


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
