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
    for catalog, owner in [("pg_namespace", "nspowner"), ("pg_proc", "proowner")]:
        owns = conn.execute(
            f"SELECT count(*) FROM {catalog} WHERE {owner} = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()[0]
        assert owns == 0, catalog
    grants = conn.execute(
        "SELECT array_agg(privilege_type::text ORDER BY privilege_type::text) "
        "FROM information_schema.role_table_grants WHERE "
        "table_schema = 'eventlog' AND table_name = 'events' AND "
        "grantee = 'liuhen_writer'"
    ).fetchone()[0]
    assert grants == ["SELECT"]
    # INSERT only on the columns the writer may choose (005_writer_columns.sql).
    insertable = conn.execute(
        "SELECT array_agg(column_name::text) FROM information_schema.column_privileges"
        " WHERE table_schema = 'eventlog' AND table_name = 'events' AND"
        " grantee = 'liuhen_writer' AND privilege_type = 'INSERT'"
    ).fetchone()[0]
    assert "event_id" in insertable
    assert not {"position", "tx_id"} & set(insertable)


def memberships(conn, role: str) -> list[str]:
    """The roles `role` is directly a member of."""
    return [
        name
        for (name,) in conn.execute(
            "SELECT g.rolname FROM pg_auth_members m"
            " JOIN pg_roles g ON g.oid = m.roleid"
            " JOIN pg_roles u ON u.oid = m.member"
            " WHERE u.rolname = %s ORDER BY 1",
            (role,),
        )
    ]


def test_the_application_role_is_only_a_writer_and_the_writer_nothing_more(conn):
    app = conn.execute("SELECT current_user").fetchone()[0]
    assert memberships(conn, app) == ["liuhen_writer"]
    assert memberships(conn, "liuhen_writer") == []


def test_an_idle_write_transaction_of_the_application_role_is_ended(conn):
    # It would hold back pg_snapshot_xmin, hence every event reader.
    timeout = conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()[0]
    assert timeout == "1min"
