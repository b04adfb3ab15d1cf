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
CREATED = re.compile(r"CREATE SCHEMA (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)", re.I)

# Policies are compared whole, as pg_get_expr prints them (normalised: see `expr`),
# never searched for a fragment: `district = ... OR true` contains the confining
# comparison and confines nothing.
#
# A row's district equals the transaction's (eventlog/tenancy.py: POLICY_SQL).
CONFINED = "district = current_setting('liuhen.district'::text, true)"
# The transaction asked for every district (eventlog/tenancy.py: ALL_DISTRICTS_SQL).
MARKER = "current_setting('liuhen.district'::text, true) = '*'::text"
# The policy of every district-bearing table, whatever its name: (command,
# permissive, USING, WITH CHECK).
BY_DISTRICT = ("*", True, CONFINED, CONFINED)
# The only policies allowed the cross-district marker: (table, policy) -> (command,
# permissive, USING, WITH CHECK). Each is argued in its migration; each one is read
# or leased by platform code inside tenancy.all_districts.
CROSS_DISTRICT = {
    # the overdue sweeps' read (services/complaints/handlers.py, issues/handlers.py)
    ("complaints.timers", "all_districts_read"): ("r", True, MARKER, None),
    ("issues.timers", "all_districts_read"): ("r", True, MARKER, None),
    # the anonymous lookup before the district is known (complaints/views.track)
    ("complaints.query_codes", "all_districts_read"): ("r", True, MARKER, None),
    # the senders' claims and leases (services/notify/sender.py, webhooks_sender.py)
    ("notify.outbox", "all_districts_read"): ("r", True, MARKER, None),
    ("notify.outbox", "all_districts_lease"): ("w", True, MARKER, MARKER),
    ("notify.webhook_due", "all_districts_read"): ("r", True, MARKER, None),
    ("notify.webhook_due", "all_districts_lease"): ("w", True, MARKER, MARKER),
    # the relay's place in the whole log (eventlog/relay.py)
    ("eventlog.checkpoints", "all_districts"): ("*", True, MARKER, MARKER),
}
OWNER_ONLY = (
    "pg_has_role((SELECT pg_class.relowner FROM pg_class WHERE (pg_class.oid ="
    " ('liuhen_meta.migrations'::regclass)::oid)), 'MEMBER'::text)"
)
# Every other policy that is not BY_DISTRICT, each argued in its migration.
OTHERS = {
    # consumers' tracking rows: no district, read and added to by anyone, changed by
    # nobody (eventlog/migrations/006)
    ("eventlog.processed", "consumers_read"): ("r", True, "true", None),
    ("eventlog.processed", "consumers_record"): ("a", True, None, "true"),
    # authentication finds the one token presented (services/gateway migrations)
    ("gateway.tokens", "authenticating"): (
        "r",
        True,
        "token_id = current_setting('liuhen.token_id'::text, true)",
        None,
    ),
    # the migrating role's own bookkeeping (eventlog/migrate.py)
    ("liuhen_meta.migrations", "migrating_role"): ("*", True, OWNER_ONLY, OWNER_ONLY),
}


def rows(conn, query: str, params=()) -> list[tuple]:
    return conn.execute(query, params).fetchall()


def expr(text: str | None) -> str | None:
    """pg_get_expr's text, normalised: whitespace runs as one space, none just
    inside parentheses, and parentheses around the whole expression dropped."""
    if text is None:
        return None
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\( ", "(", re.sub(r" \)", ")", text))
    while text.startswith("(") and _closes_at_end(text):
        text = text[1:-1].strip()
    return text


def _closes_at_end(text: str) -> bool:
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            return i == len(text) - 1
    return False


def policies(conn) -> dict[tuple[str, str], tuple]:
    """(table, policy) -> (command, permissive, USING, WITH CHECK, has a district)
    of every policy on a table of the project."""
    found = rows(
        conn,
        "SELECT c.oid::regclass::text, p.polname, p.polcmd::text, p.polpermissive,"
        " pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck,"
        " p.polrelid), EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid"
        " AND a.attname = 'district' AND a.attnum > 0 AND NOT a.attisdropped)"
        " FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
        f" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {PROJECT}",
    )
    return {
        (table, name): (cmd, permissive, expr(qual), expr(check), district)
        for table, name, cmd, permissive, qual, check, district in found
    }


def unexpected_policies(conn) -> list[tuple]:
    """Every policy that is neither BY_DISTRICT on a district-bearing table nor
    listed (exactly as listed) in CROSS_DISTRICT or OTHERS."""
    listed = CROSS_DISTRICT | OTHERS
    odd = []
    for key, (cmd, permissive, qual, check, district) in policies(conn).items():
        shape = (cmd, permissive, qual, check)
        if key in listed:
            ok = shape == listed[key]
        else:
            ok = district and shape == BY_DISTRICT
        if not ok:
            odd.append((*key, *shape))
    return sorted(odd)


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


def test_every_policy_is_exactly_one_the_catalog_expects(admin_conn):
    """A permissive policy widens what a table shows: one more of them, or one
    loosened, opens a district. So every policy is the district policy or one listed
    above, expression for expression; a new one is listed here only with its
    argument in its migration."""
    assert unexpected_policies(admin_conn) == [], (
        "policies neither the district policy nor listed in CROSS_DISTRICT/OTHERS "
        "(table, policy, command, permissive, USING, WITH CHECK)"
    )
    found = policies(admin_conn)
    assert set(CROSS_DISTRICT) | set(OTHERS) <= set(found), "a listed policy is gone"


def test_the_cross_district_marker_is_accepted_only_where_listed(admin_conn):
    marked = {
        key
        for key, (_, _, qual, check, _) in policies(admin_conn).items()
        if "'*'" in (qual or "") + (check or "")
    }
    assert marked == set(CROSS_DISTRICT)
    # No policy admits a transaction in no district: its setting is unset or empty.
    for key, (_, _, qual, check, _) in policies(admin_conn).items():
        assert "coalesce" not in (qual or "") + (check or ""), key


def test_no_policy_lets_a_row_be_written_outside_its_district(admin_conn):
    """On a table whose rows carry a district, every policy that admits a new row
    (INSERT, ALL) checks the row's district against the transaction's, and one that
    admits an UPDATE does too, unless the application may not write the district
    column at all (the senders' leases, across districts: see their migrations)."""
    found = rows(
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
    assert found, "no district-bearing table has a writing policy: nothing seen"
    loose = [
        (table, name, check)
        for table, name, cmd, check, may_move in found
        if expr(check) != CONFINED and (cmd != "w" or may_move)
    ]
    assert loose == []


def test_every_district_bearing_table_is_confined_by_district(admin_conn):
    confined = {
        table
        for (table, _), (*shape, _) in policies(admin_conn).items()
        if tuple(shape) == BY_DISTRICT
    }
    bearing = {
        r[0]
        for r in rows(
            admin_conn,
            "SELECT c.oid::regclass::text FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'district'"
            f" WHERE c.relkind IN ('r', 'p') AND {PROJECT} AND c.oid <> %s::regclass",
            (THE_LOG,),
        )
    }
    assert bearing and bearing - confined == set()


@pytest.mark.parametrize(
    "table, loosen",
    [
        (  # the confining comparison is there, and confines nothing
            "complaints.complaints",
            "ALTER POLICY by_district ON complaints.complaints USING (district ="
            " current_setting('liuhen.district', true) OR true)",
        ),
        (  # one more permissive policy opens the table to every reader
            "complaints.complaints",
            "CREATE POLICY peek ON complaints.complaints FOR SELECT USING (true)",
        ),
        (  # the marker on a table not listed for it
            "complaints.complaints",
            "CREATE POLICY sweep ON complaints.complaints FOR SELECT"
            " USING (current_setting('liuhen.district', true) = '*')",
        ),
        (  # "outside any district" fails open again
            "complaints.timers",
            "ALTER POLICY all_districts_read ON complaints.timers USING"
            " (coalesce(current_setting('liuhen.district', true), '') IN ('', '*'))",
        ),
        (  # a listed name with a wider command
            "notify.outbox",
            "DROP POLICY all_districts_read ON notify.outbox;"
            " CREATE POLICY all_districts_read ON notify.outbox"
            " USING (current_setting('liuhen.district', true) = '*')",
        ),
        (  # rows written into any district
            "notify.outbox",
            "ALTER POLICY by_district ON notify.outbox WITH CHECK (true)",
        ),
        (  # a table without a district, opened
            "eventlog.checkpoints",
            "CREATE POLICY peek ON eventlog.checkpoints FOR SELECT USING (true)",
        ),
    ],
)
def test_the_policy_check_fails_on_a_loosened_policy(admin_conn, table, loosen):
    # Seen failing, not believed: each loosening is made in a transaction that is
    # rolled back, and the check must name the table.
    with admin_conn.transaction(force_rollback=True):
        assert unexpected_policies(admin_conn) == []
        admin_conn.execute(loosen)
        assert table in {odd[0] for odd in unexpected_policies(admin_conn)}
    assert unexpected_policies(admin_conn) == []


def test_the_write_check_fails_on_a_policy_writing_anywhere(admin_conn):
    with admin_conn.transaction(force_rollback=True):
        admin_conn.execute(
            "CREATE POLICY anywhere ON notify.inbox FOR INSERT WITH CHECK (district"
            " = current_setting('liuhen.district', true) OR true)"
        )
        with pytest.raises(AssertionError):
            test_no_policy_lets_a_row_be_written_outside_its_district(admin_conn)


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
