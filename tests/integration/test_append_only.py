"""Nothing updates or deletes an event: not the application role, not the owner."""

import psycopg
import pytest

from eventlog.model import NewEvent
from tests.conftest import new_stream

CHANGES = [
    "UPDATE eventlog.events SET actor = 'forger'",
    "DELETE FROM eventlog.events",
    "TRUNCATE eventlog.events",
]


@pytest.fixture
def some_event(store):
    return store.append(
        new_stream(), "binhai", 0, [NewEvent("ComplaintReceived", {}, "op")]
    )[0]


@pytest.mark.parametrize("statement", CHANGES)
def test_the_application_role_cannot_change_the_log(conn, some_event, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        conn.execute(statement)


@pytest.mark.parametrize("statement", CHANGES)
def test_even_the_owner_is_stopped_by_the_triggers(admin_conn, some_event, statement):
    with admin_conn.transaction():
        admin_conn.execute("SET LOCAL ROLE liuhen_owner")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            admin_conn.execute(statement)


def test_an_update_matching_no_row_is_refused_too(admin_conn):
    with pytest.raises(
        psycopg.errors.InsufficientPrivilege, match="append-only: UPDATE"
    ):
        admin_conn.execute("UPDATE eventlog.events SET actor = 'x' WHERE false")


def test_the_application_role_owns_nothing_and_bypasses_nothing(conn):
    role = conn.execute(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb "
        "FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert role == (False, False, False, False)
    owned = conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = "
        "c.relowner WHERE r.rolname = current_user"
    ).fetchone()[0]
    assert owned == 0
    grants = conn.execute(
        "SELECT array_agg(privilege_type::text ORDER BY privilege_type::text) "
        "FROM information_schema.role_table_grants WHERE "
        "table_schema = 'eventlog' AND table_name = 'events' AND "
        "grantee = 'liuhen_writer'"
    ).fetchone()[0]
    assert grants == ["INSERT", "SELECT"]
