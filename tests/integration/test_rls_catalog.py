"""Row-level security, proved from the catalog rather than believed from the
migrations: every table of the project is sealed (enabled and forced) with policies
that keep a district's rows in its district, and the role the services log in as can
step around none of it.

The project's schemas are discovered, not listed: every schema of the database but
PostgreSQL's own, so a schema a future migration creates is checked without anyone
remembering to add it here. The migration files' CREATE SCHEMA statements are
cross-checked against what was found, so the discovery cannot silently find nothing.
"""

import re

import pytest

from eventlog import migrate
from tests.conftest import APP_USER

# PostgreSQL's own schemas; pg_temp_N hold sessions' temporary tables (a test's
# scratch table, say), which live and die with their session.
PROJECT = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema')"
    " AND n.nspname !~ '^pg_(toast|temp_)'"
)
# The log has its own guard (eventlog/migrations/002 and 005): the writer may only
# SELECT and INSERT, triggers refuse UPDATE, DELETE and TRUNCATE even to the owner,
# and its readers choose the district themselves (the audit service reads every one).
THE_LOG = "eventlog.events"
# A policy keeps rows in their district when it compares the row's district with the
# transaction's (eventlog/tenancy.py: POLICY_SQL, as pg_get_expr prints it).
CONFINED = re.compile(r"\bdistrict = current_setting\('liuhen\.district'::text, true\)")
CREATED = re.compile(r"CREATE SCHEMA (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)", re.I)


def rows(conn, query: str, params=()) -> list[tuple]:
    return conn.execute(query, params).fetchall()


def tables(conn) -> list[str]:
    return [
        r[0]
        for r in rows(
            conn,
            "SELECT c.oid::regclass::text FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            f" WHERE c.relkind IN ('r', 'p') AND {PROJECT} ORDER BY 1",
        )
    ]


def test_the_schemas_checked_are_every_schema_the_migrations_create(admin_conn):
    found = {
        r[0]
        for r in rows(admin_conn, f"SELECT nspname FROM pg_namespace n WHERE {PROJECT}")
    }
    created = {
        name.lower()
        for m in migrate.discover()
        for name in CREATED.findall(m.path.read_text())
    }
    assert created, "no migration creates a schema: the discovery proves nothing"
    assert created | {"liuhen_meta"} <= found
    owned = {
        r[0]
        for r in rows(
            admin_conn,
            "SELECT nspname FROM pg_namespace WHERE nspowner = %s::regrole",
            (migrate.OWNER,),
        )
    }
    assert owned <= found and created <= owned
    assert THE_LOG in tables(admin_conn)


def test_every_table_has_row_level_security_enabled_and_forced(admin_conn):
    lacking = rows(
        admin_conn,
        "SELECT c.oid::regclass::text, c.relrowsecurity, c.relforcerowsecurity"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        f" WHERE c.relkind IN ('r', 'p') AND {PROJECT}"
        " AND NOT (c.relrowsecurity AND c.relforcerowsecurity)"
        " AND c.oid <> %s::regclass ORDER BY 1",
        (THE_LOG,),
    )
    assert lacking == [], (
        "tables without row-level security enabled and forced "
        "(table, enabled, forced): a new numbered migration must seal them"
    )
    assert len(tables(admin_conn)) > 20  # the discovery found the project


def test_every_sealed_table_has_a_policy(admin_conn):
    # Sealed without a policy, a table shows nothing to anyone: safe, but a table
    # nobody can use is a mistake, not a decision.
    bare = rows(
        admin_conn,
        "SELECT c.oid::regclass::text FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        f" WHERE c.relkind IN ('r', 'p') AND {PROJECT} AND c.relrowsecurity"
        " AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)",
    )
    assert bare == []


def test_no_policy_lets_a_row_be_written_outside_its_district(admin_conn):
    """On a table whose rows carry a district, every policy that admits a new row
    (INSERT, ALL) checks the row's district against the transaction's, and one that
    admits an UPDATE does too, unless the application may not write the district
    column at all (the timers' and queues' sweepers, which work outside any
    district: see their migrations)."""
    policies = rows(
        admin_conn,
        "SELECT c.oid::regclass::text, p.polname, p.polcmd,"
        " pg_get_expr(coalesce(p.polwithcheck, p.polqual), p.polrelid),"
        " has_column_privilege(%s, c.oid, 'district', 'UPDATE')"
        " FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'district'"
        f" WHERE {PROJECT} AND p.polcmd IN ('*', 'a', 'w') AND p.polpermissive",
        (APP_USER,),
    )
    assert policies, "no district-bearing table has a writing policy: nothing seen"
    loose = [
        (table, name, check)
        for table, name, cmd, check, may_move in policies
        if not CONFINED.search(check or "") and (cmd != "w" or may_move)
    ]
    assert loose == []


def test_every_district_bearing_table_is_confined_by_district(admin_conn):
    unconfined = [
        table
        for table, exprs in rows(
            admin_conn,
            "SELECT c.oid::regclass::text, array_agg(pg_get_expr(p.polqual,"
            " p.polrelid)) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'district'"
            " LEFT JOIN pg_policy p ON p.polrelid = c.oid"
            f" WHERE c.relkind IN ('r', 'p') AND {PROJECT} AND c.oid <> %s::regclass"
            " GROUP BY 1",
            (THE_LOG,),
        )
        if not any(CONFINED.search(e or "") for e in exprs)
    ]
    assert unconfined == []


def test_the_log_is_guarded_by_its_own_means(admin_conn):
    may = dict(
        rows(
            admin_conn,
            "SELECT p, has_table_privilege(%s, %s, p)"
            " FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',"
            " 'TRIGGER', 'REFERENCES']) p",
            (APP_USER, THE_LOG),
        )
    )
    assert may == {
        "SELECT": True,
        "INSERT": False,  # only on the columns a writer supplies
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
        "TRIGGER": False,
        "REFERENCES": False,
    }
    for column in ("position", "tx_id"):
        assert not admin_conn.execute(
            "SELECT has_column_privilege(%s, %s, %s, 'INSERT')",
            (APP_USER, THE_LOG, column),
        ).fetchone()[0]
    # A statement-level BEFORE trigger on UPDATE, DELETE and TRUNCATE, enabled:
    # tgtype bits (pg_trigger.h) ROW 1, BEFORE 2, DELETE 8, UPDATE 16, TRUNCATE 32.
    guards = rows(
        admin_conn,
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass"
        " AND tgenabled IN ('O', 'A') AND tgtype & 1 = 0 AND tgtype & 2 = 2"
        " AND tgtype & 56 = 56",
        (THE_LOG,),
    )
    assert guards, "eventlog.events has no enabled append-only trigger"


def test_the_application_role_has_no_power_over_the_guards(admin_conn):
    powers = rows(
        admin_conn,
        "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb,"
        " rolreplication FROM pg_roles WHERE pg_has_role(%s, oid, 'MEMBER')"
        " AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb"
        "  OR rolreplication)",
        (APP_USER,),
    )
    assert powers == [], (
        "the application role is, or is a member of, a role with powers"
    )
    assert admin_conn.execute(
        "SELECT count(*) FROM pg_roles WHERE rolname = %s", (APP_USER,)
    ).fetchone() == (1,)


@pytest.mark.parametrize(
    "what, query",
    [
        (
            "relations (tables, sequences, views, indexes)",
            "SELECT c.oid::regclass::text FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relpersistence <> 't' AND pg_has_role(%(app)s, c.relowner,"
            " 'MEMBER')",
        ),
        (
            "schemas",
            "SELECT nspname FROM pg_namespace"
            " WHERE pg_has_role(%(app)s, nspowner, 'MEMBER')"
            " AND nspname !~ '^pg_(toast_)?temp_'",
        ),
        (
            "functions",
            "SELECT p.oid::regprocedure::text FROM pg_proc p"
            " WHERE pg_has_role(%(app)s, p.proowner, 'MEMBER')",
        ),
        (
            "types",
            "SELECT t.oid::regtype::text FROM pg_type t"
            " JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE pg_has_role(%(app)s, t.typowner, 'MEMBER')"
            " AND n.nspname !~ '^pg_temp_'",
        ),
        (
            "the database",
            "SELECT datname FROM pg_database WHERE datname = current_database()"
            " AND pg_has_role(%(app)s, datdba, 'MEMBER')",
        ),
    ],
)
def test_the_application_role_owns_nothing(admin_conn, what, query):
    # Neither itself nor through a role it belongs to (liuhen_owner, say): an owner
    # may disable row-level security, drop policies and triggers.
    assert rows(admin_conn, query, {"app": APP_USER}) == [], what


def test_the_application_role_cannot_create_or_step_around_row_security(admin_conn):
    # TRUNCATE ignores row-level security; TRIGGER would let the application run its
    # own code in other roles' statements (the owner's rebuilds); CREATE in a schema
    # or the database would make it the owner of what it creates.
    privileged = rows(
        admin_conn,
        "SELECT c.oid::regclass::text, p FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace,"
        " unnest(ARRAY['TRUNCATE', 'TRIGGER']) p"
        f" WHERE c.relkind IN ('r', 'p') AND {PROJECT}"
        " AND has_table_privilege(%s, c.oid, p)",
        (APP_USER,),
    )
    assert privileged == []
    creates = rows(
        admin_conn,
        f"SELECT nspname FROM pg_namespace n WHERE {PROJECT}"
        " AND has_schema_privilege(%s, n.oid, 'CREATE')",
        (APP_USER,),
    )
    assert creates == []
    assert not admin_conn.execute(
        "SELECT has_database_privilege(%s, current_database(), 'CREATE')",
        (APP_USER,),
    ).fetchone()[0]


def test_no_function_runs_as_a_role_above_row_security(admin_conn):
    # A SECURITY DEFINER function runs as its owner: owned by a superuser or a
    # BYPASSRLS role, it would read every district for whoever calls it. Owned by
    # liuhen_owner it is still bound: FORCE binds the owner too.
    above = rows(
        admin_conn,
        "SELECT p.oid::regprocedure::text FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace"
        " JOIN pg_roles r ON r.oid = p.proowner"
        f" WHERE p.prosecdef AND {PROJECT} AND (r.rolsuper OR r.rolbypassrls)",
    )
    assert above == []
