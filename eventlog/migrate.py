"""Database, roles and numbered SQL migrations.

Roles (cluster-wide):
- `liuhen_owner` (no login) owns every schema and table; migrations run as it.
- `liuhen_writer` (no login) holds the grants the services need, and nothing more.
- the application login role (`liuhen_app` unless configured) is a member of
  `liuhen_writer`; it is not a superuser, owns nothing and does not bypass RLS.

Migrations are `*.sql` files in `eventlog/migrations/` and then in each
`services/<name>/migrations/`, applied in name order, once each, each in its own
transaction, under an advisory lock so that concurrent runs do not collide; role
setup takes a second lock, in the `postgres` database, because roles are cluster-wide.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parent.parent
OWNER, WRITER = "liuhen_owner", "liuhen_writer"
MIGRATION_LOCK = 0x11A0_0001  # in the migrated database
ROLE_LOCK = 0x11A0_0003  # in the `postgres` database, shared by all


@dataclass(frozen=True)
class Migration:
    package: str
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


def discover(root: Path = ROOT) -> list[Migration]:
    found = [
        Migration("eventlog", p)
        for p in sorted((root / "eventlog/migrations").glob("*.sql"))
    ]
    for service in sorted((root / "services").glob("*/migrations")):
        found += [
            Migration(f"services.{service.parent.name}", p)
            for p in sorted(service.glob("*.sql"))
        ]
    return found


def ensure_database(admin_conninfo: str, dbname: str) -> bool:
    """Create the database if missing. True when it was created."""
    with psycopg.connect(
        make_conninfo(admin_conninfo, dbname="postgres"), autocommit=True
    ) as conn:
        if conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)
        ).fetchone():
            return False
        try:
            # UTF8 whatever the cluster's default: the append function hashes
            # convert_to(text, 'UTF8'), which must be the bytes Python encoded.
            conn.execute(
                sql.SQL(
                    "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' "
                    "LC_COLLATE 'C' LC_CTYPE 'C'"
                ).format(sql.Identifier(dbname))
            )
        except psycopg.errors.DuplicateDatabase:  # a concurrent run made it first
            return False
        return True


class RoleError(Exception):
    """The configured roles cannot be set up safely: a readable reason."""


def _create_role(conn, name: str, options: str) -> None:
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
        return
    try:
        conn.execute(sql.SQL("CREATE ROLE {} " + options).format(sql.Identifier(name)))
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        pass  # a concurrent run made it first (pg_authid's unique index says so)


@contextmanager
def role_lock(admin_conninfo: str):
    """Serialise role setup across every database of the cluster.

    Roles are cluster-wide but advisory locks are per database, so the per-database
    migration lock does not stop two runs on two databases from racing on CREATE
    ROLE or ALTER ROLE ("tuple concurrently updated"). Every run takes this lock in
    the `postgres` database, the one database they all share.
    """
    with psycopg.connect(
        make_conninfo(admin_conninfo, dbname="postgres"), autocommit=True
    ) as lock_conn:
        lock_conn.execute("SELECT pg_advisory_lock(%s)", (ROLE_LOCK,))
        try:
            yield
        finally:
            lock_conn.execute("SELECT pg_advisory_unlock(%s)", (ROLE_LOCK,))


def _refuse_dangerous_name(conn, app_user: str) -> None:
    admin = conn.execute("SELECT current_user").fetchone()[0]
    if app_user in (OWNER, WRITER):
        raise RoleError(
            f"LIUHEN_DB_APP_USER may not be {app_user}: the services would own or "
            "hold the grants of the log; choose another name (default liuhen_app)"
        )
    if app_user == admin:
        raise RoleError(
            f"LIUHEN_DB_APP_USER may not be {app_user}, the role migrations connect "
            "as: set another LIUHEN_DB_APP_USER (default liuhen_app)"
        )


def _refuse_privileged(conn, app_user: str) -> None:
    """An existing role with powers is somebody's account, not ours to strip."""
    row = conn.execute(
        "SELECT rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb"
        " FROM pg_roles WHERE rolname = %s",
        (app_user,),
    ).fetchone()
    if row and row[0]:
        raise RoleError(
            f"role {app_user} exists with superuser, bypassrls, createrole or "
            "createdb: it looks like an administrator's account; set "
            "LIUHEN_DB_APP_USER to a role of its own (default liuhen_app)"
        )


def _check_app_role(conn, app_user: str) -> None:
    """After setup: the application role must be bound by every guard."""
    superuser, bypassrls, owner = conn.execute(
        "SELECT rolsuper, rolbypassrls, pg_has_role(oid, %s, 'MEMBER')"
        " FROM pg_roles WHERE rolname = %s",
        (OWNER, app_user),
    ).fetchone()
    powerful = conn.execute(
        "SELECT string_agg(r.rolname, ', ') FROM pg_roles r, pg_roles a"
        " WHERE a.rolname = %s AND r.oid <> a.oid AND (r.rolsuper OR r.rolbypassrls)"
        " AND pg_has_role(a.oid, r.oid, 'MEMBER')",
        (app_user,),
    ).fetchone()[0]
    owns_db = conn.execute(
        "SELECT pg_get_userbyid(datdba) = %s FROM pg_database"
        " WHERE datname = current_database()",
        (app_user,),
    ).fetchone()[0]
    if superuser or bypassrls or powerful or owns_db:
        raise RoleError(
            f"role {app_user} could bypass the guards (superuser, bypassrls, member "
            f"of {powerful or 'no such role'}, or owner of the database); it must be "
            "a plain login role"
        )
    if owner:
        via = conn.execute(
            "SELECT string_agg(g.rolname, ', ' ORDER BY g.rolname)"
            " FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
            " JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
            (app_user,),
        ).fetchone()[0]
        raise RoleError(
            f"role {app_user} is a member of {OWNER} (its roles: {via}), so it could "
            "alter the log; revoke that membership, it needs only " + WRITER
        )


def ensure_roles(conn, app_user: str, app_password: str | None) -> None:
    """Create and constrain the roles. Call under role_lock()."""
    _refuse_dangerous_name(conn, app_user)
    _create_role(conn, OWNER, "NOLOGIN")
    _create_role(conn, WRITER, "NOLOGIN")
    _refuse_privileged(conn, app_user)  # before touching it: never downgrade silently
    _create_role(conn, app_user, "LOGIN")
    ident = sql.Identifier(app_user)
    # A write transaction left idle holds back pg_snapshot_xmin, hence every event
    # reader (see TAIL in store.py): the server ends such sessions.
    conn.execute(
        sql.SQL("ALTER ROLE {} SET idle_in_transaction_session_timeout = '60s'").format(
            ident
        )
    )
    if app_password:
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                ident, sql.Literal(app_password)
            )
        )
    conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(WRITER), ident))
    dbname = conn.info.dbname
    conn.execute(
        sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(
            sql.Identifier(dbname), sql.Identifier(OWNER)
        )
    )
    _check_app_role(conn, app_user)


# The record of migrations is the migrating role's own: that role creates it above
# (the migrations run as liuhen_owner, which may not alter it) and grants it to
# nobody. It is sealed like every table of the project (tests/integration/
# test_rls_catalog.py), and its one policy says so: rows for the table's owner (and
# members of that role) only, so even a grant given by mistake shows nothing. A
# superuser passes row-level security anyway; a migrating role that is not one is
# bound by FORCE and passes the policy as the owner.
OWNER_ONLY = (
    "pg_has_role((SELECT relowner FROM pg_class"
    " WHERE oid = 'liuhen_meta.migrations'::regclass), 'MEMBER')"
)


def _seal_meta(conn) -> None:
    sealed = conn.execute(
        "SELECT c.relrowsecurity AND c.relforcerowsecurity AND EXISTS (SELECT 1"
        " FROM pg_policy p WHERE p.polrelid = c.oid) FROM pg_class c"
        " WHERE c.oid = 'liuhen_meta.migrations'::regclass"
    ).fetchone()[0]
    if sealed:
        return
    with conn.transaction():
        conn.execute(
            "ALTER TABLE liuhen_meta.migrations"
            " ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY"
        )
        conn.execute("DROP POLICY IF EXISTS migrating_role ON liuhen_meta.migrations")
        conn.execute(
            "CREATE POLICY migrating_role ON liuhen_meta.migrations"
            f" USING ({OWNER_ONLY}) WITH CHECK ({OWNER_ONLY})"
        )


def migrate(
    admin_conninfo: str,
    app_user: str,
    app_password: str | None = None,
    root: Path = ROOT,
) -> list[str]:
    """Apply what is pending; return the names applied."""
    applied = []
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            with role_lock(admin_conninfo):
                ensure_roles(conn, app_user, app_password)
            conn.execute("CREATE SCHEMA IF NOT EXISTS liuhen_meta")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS liuhen_meta.migrations ("
                " package text NOT NULL, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now(),"
                " PRIMARY KEY (package, name))"
            )
            _seal_meta(conn)
            done = set(
                conn.execute(
                    "SELECT package, name FROM liuhen_meta.migrations"
                ).fetchall()
            )
            for m in discover(root):
                if (m.package, m.name) in done:
                    continue
                with conn.transaction():
                    conn.execute(
                        sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER))
                    )
                    conn.execute(m.path.read_text())
                    conn.execute("RESET ROLE")
                    conn.execute(
                        "INSERT INTO liuhen_meta.migrations (package, name)"
                        " VALUES (%s, %s)",
                        (m.package, m.name),
                    )
                applied.append(f"{m.package}/{m.name}")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return applied


@contextmanager
def throwaway_database(base_conninfo: str, name: str, app_user: str = "liuhen_app"):
    """A migrated database for one test run or benchmark, dropped afterwards.
    Yields (admin conninfo, application conninfo)."""
    admin = make_conninfo(base_conninfo, dbname=name)
    ensure_database(admin, name)
    migrate(admin, app_user)
    try:
        yield admin, make_conninfo(admin, user=app_user)
    finally:
        postgres = make_conninfo(base_conninfo, dbname="postgres")
        with psycopg.connect(postgres, autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))
