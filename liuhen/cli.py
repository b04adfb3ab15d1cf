"""The `liuhen` command line: the composition root for operators.

Every failure ends with one readable line on stderr and a non-zero exit:
1 when the answer is "no" (a broken chain), 2 when the command could not run.
"""

import argparse
import getpass
import sys

import psycopg

from eventlog import logs, migrate, settings


class Failure(Exception):
    """A readable one-line reason to stop, exit code 2."""


def cmd_migrate(args, cfg) -> int:
    created = migrate.ensure_database(cfg.admin_conninfo, cfg.database_name)
    applied = migrate.migrate(cfg.admin_conninfo, cfg.app_user, cfg.app_password)
    print(
        (f"created database {cfg.database_name}; " if created else "")
        + (f"applied {len(applied)} migrations" if applied else "schema up to date")
    )
    for name in applied:
        print("  " + name)
    return 0


def cmd_relay(args, cfg) -> int:
    from eventlog.relay import Relay
    from liuhen.launcher import stop_on_signals

    relay = Relay(cfg.app_conninfo, cfg.amqp_uri, name=args.name)
    relay.run(stop_on_signals())
    return 0


def cmd_token_create(args, cfg) -> int:
    from eventlog.store import EventStore
    from services.gateway.auth import AuthError, issue
    from services.gateway.tokens import lifetime

    with psycopg.connect(cfg.app_conninfo, autocommit=True) as conn:
        try:
            token_id, token = issue(
                EventStore(conn),
                args.district,
                args.role,
                unit=args.unit,
                subject=args.subject,
                by=f"cli:{getpass.getuser()}",
                expires_in=lifetime(args.expires_in),
            )
        except AuthError as exc:
            raise Failure(str(exc)) from None
    print(token)
    where = (
        f"issued in {args.district}, acts in the district each request names "
        "(X-Liuhen-District)"
        if args.role == "city"
        else f"in {args.district}"
    )
    print(
        f"token {token_id}: {args.role} {where}; expires in {args.expires_in}",
        file=sys.stderr,
    )
    return 0


def cmd_token_revoke(args, cfg) -> int:
    from eventlog.store import EventStore
    from services.gateway.tokens import RevokeRefused, revoke

    with psycopg.connect(cfg.app_conninfo, autocommit=True) as conn:
        try:
            view = revoke(
                EventStore(conn),
                args.token_id,
                by=f"cli:{getpass.getuser()}",
                reason=args.reason,
            )
        except RevokeRefused as exc:  # no such token, a pasted token, a bad reason
            raise Failure(str(exc)) from None
    print(
        f"token {view['token_id']} ({view['role']} in {view['district']}): "
        f"revoked at {view['revoked_at'].isoformat(timespec='seconds')}"
    )
    return 0


def cmd_directory_load(args, cfg) -> int:
    from eventlog.store import EventStore
    from services.directory.load import DirectoryError, parse_files, record_files

    try:
        parsed = parse_files(args.files)  # all of them, before connecting
    except DirectoryError as exc:
        raise Failure(str(exc)) from None
    with psycopg.connect(cfg.app_conninfo, autocommit=True) as conn:
        actor = f"cli:{getpass.getuser()}"
        for line in record_files(EventStore(conn), parsed, actor):
            print(line, flush=True)
    return 0


def cmd_projections_list(args, cfg) -> int:
    from liuhen import projections

    for line in projections.describe():
        print(line)
    return 0


def cmd_projections_rebuild(args, cfg) -> int:
    from eventlog.rebuild import RebuildError
    from liuhen import projections

    try:
        chosen = projections.named(args.name)
    except projections.UnknownProjection as exc:
        raise Failure(str(exc)) from None
    # The migrating role's connection, to act as the owner of the read models:
    # eventlog/rebuild.py says why not as the application role nor as a superuser.
    with psycopg.connect(cfg.admin_conninfo, autocommit=True) as conn:
        for projection in chosen:
            try:
                print(projections.rebuild_shown(conn, projection), flush=True)
            except RebuildError as exc:
                raise Failure(str(exc)) from None
    return 0


def cmd_integrator_add(args, cfg) -> int:
    from eventlog.store import EventStore
    from liuhen import integrators as ig

    api, vhost = ig.ManagementApi.configured(cfg.amqp_uri), ig.vhost_of(cfg.amqp_uri)
    with psycopg.connect(cfg.app_conninfo, autocommit=True) as conn:
        try:
            who, password = ig.add(
                api, EventStore(conn), vhost, args.name, args.district, by=_by()
            )
        except ig.IntegratorError as exc:
            raise Failure(str(exc)) from None
    uri = ig.client_uri(cfg.amqp_uri, who, password, args.host)
    print("\n".join(ig.granted(who, password, uri)))
    print(f"integrator {who.name} added for {who.district}", file=sys.stderr)
    return 0


def cmd_integrator_remove(args, cfg) -> int:
    from eventlog.store import EventStore
    from liuhen import integrators as ig

    api, vhost = ig.ManagementApi.configured(cfg.amqp_uri), ig.vhost_of(cfg.amqp_uri)
    with psycopg.connect(cfg.app_conninfo, autocommit=True) as conn:
        try:
            who = ig.remove(api, EventStore(conn), vhost, args.name, by=_by())
        except ig.IntegratorError as exc:
            raise Failure(str(exc)) from None
    print(f"removed integrator {who.name} of {who.district}: {who.user} deleted")
    return 0


def cmd_integrator_list(args, cfg) -> int:
    from liuhen import integrators as ig

    api, vhost = ig.ManagementApi.configured(cfg.amqp_uri), ig.vhost_of(cfg.amqp_uri)
    try:
        found = ig.listing(api, vhost)
    except ig.IntegratorError as exc:
        raise Failure(str(exc)) from None
    for who in found:
        print(f"{who.name}\t{who.district}\t{who.user}\t{who.queue_prefix}*")
    if not found:
        print(f"no integrators on vhost {vhost}", file=sys.stderr)
    return 0


def _by() -> str:
    return f"cli:{getpass.getuser()}"


def cmd_up(args, cfg) -> int:
    from liuhen.launcher import up

    return up(cfg)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="liuhen", description="留痕 platform command line")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "migrate", help="create the database and roles, apply migrations"
    ).set_defaults(run=cmd_migrate)
    from liuhen import audit_cli, pii_cli

    audit_cli.add_parsers(sub)
    pii_cli.add_parsers(sub)
    r = sub.add_parser("relay", help="publish committed events to RabbitMQ")
    r.add_argument(
        "--name", default="relay", help="checkpoint name (one per relay group)"
    )
    r.set_defaults(run=cmd_relay)
    sub.add_parser(
        "up", help="migrate and run every service until Ctrl-C"
    ).set_defaults(run=cmd_up)
    d = sub.add_parser("directory", help="the district directory")
    dsub = d.add_subparsers(dest="action", required=True)
    dl = dsub.add_parser("load", help="record district files (deploy/districts/)")
    dl.add_argument("files", nargs="+", metavar="FILE", help="a <district>.yml file")
    dl.set_defaults(run=cmd_directory_load)
    t = sub.add_parser("token", help="bearer tokens for the HTTP API")
    tsub = t.add_subparsers(dest="token_command", required=True)
    tc = tsub.add_parser("create", help="issue a token and print it (shown once)")
    tc.add_argument(
        "--district",
        required=True,
        help="e.g. binhai; a city token's is where it is recorded (e.g. city): "
        "it acts in the district each request names",
    )
    tc.add_argument("--role", required=True, help="intake, unit_handler, ...")
    tc.add_argument("--unit", help="the unit of a unit_handler token")
    tc.add_argument("--subject", help="who holds it (default: role and id)")
    tc.add_argument(
        "--expires-in",
        default="90d",
        metavar="DURATION",
        help="how long it is valid: 90d (default), 12h, 30m, 2w; at most 366d",
    )
    tc.set_defaults(run=cmd_token_create)
    tr = tsub.add_parser("revoke", help="revoke a token: it authenticates nobody")
    tr.add_argument(
        "token_id",
        metavar="TOKEN_ID",
        help="the token's id: lh_<this>_..., never the token",
    )
    tr.add_argument("--reason", help="why, kept in the log")
    tr.set_defaults(run=cmd_token_revoke)
    pj = sub.add_parser("projections", help="the read models, rebuilt from the log")
    pjsub = pj.add_subparsers(dest="projections_command", required=True)
    pjsub.add_parser(
        "list", help="each read model: its tables and the events it folds"
    ).set_defaults(run=cmd_projections_list)
    pr = pjsub.add_parser("rebuild", help="rebuild a read model from the event log")
    pr.add_argument("name", metavar="NAME", help="a name from `list`, or all")
    pr.set_defaults(run=cmd_projections_rebuild)
    ig = sub.add_parser("integrator", help="integrators' RabbitMQ users, one district")
    igsub = ig.add_subparsers(dest="integrator_command", required=True)
    ia = igsub.add_parser(
        "add", help="a user that can bind only its district's keys (shown once)"
    )
    ia.add_argument("--district", required=True, help="e.g. binhai")
    ia.add_argument(
        "--host", help="host[:port] in the printed URI (default: LIUHEN_AMQP_URI's)"
    )
    ia.add_argument("name", metavar="NAME", help="e.g. acme: user integrator.acme")
    ia.set_defaults(run=cmd_integrator_add)
    ir = igsub.add_parser("remove", help="delete the user and close its connections")
    ir.add_argument("name", metavar="NAME")
    ir.set_defaults(run=cmd_integrator_remove)
    igsub.add_parser(
        "list", help="name, district, user and queue prefix of each"
    ).set_defaults(run=cmd_integrator_list)
    return p


# The schema (or part of it) is not there: the user has not migrated this database.
SCHEMA_MISSING = (
    psycopg.errors.UndefinedTable,
    psycopg.errors.UndefinedFunction,
    psycopg.errors.InvalidSchemaName,
)


def first_line(exc: BaseException) -> str:
    """PostgreSQL errors run on with LINE 1: ... and a caret: keep the reason."""
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def is_connection_failure(exc: psycopg.Error) -> bool:
    """The server could not be reached or the connection was lost.

    Errors the server reports on a live connection (QueryCanceled, DeadlockDetected,
    AdminShutdown, ...) are OperationalErrors too, but carry a SQLSTATE; libpq's own
    connection failures carry none (or class 08, connection exception).
    """
    return isinstance(exc, psycopg.OperationalError) and (
        exc.sqlstate is None or exc.sqlstate.startswith("08")
    )


def explain(exc: BaseException, cfg) -> str:
    """The one line printed for a failure, never with a password in it."""
    if isinstance(exc, psycopg.Error) and is_connection_failure(exc):
        reason = first_line(exc).removeprefix("connection failed: ")
        return f"cannot reach PostgreSQL ({cfg.safe_database_url}): {reason}"
    if isinstance(exc, SCHEMA_MISSING):
        return f"the schema is missing; run `liuhen migrate` ({first_line(exc)})"
    return first_line(exc)


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    logs.configure()
    cfg = settings.load()
    try:
        cfg.admin_conninfo, cfg.app_conninfo  # noqa: B018 (parse once, here)
    except psycopg.ProgrammingError:
        # libpq's parse errors quote the offending part, which may be the password.
        print(
            "liuhen: LIUHEN_DATABASE_URL is not a PostgreSQL URL or conninfo",
            file=sys.stderr,
        )
        return 2
    try:
        return args.run(args, cfg)
    except (Failure, migrate.RoleError, psycopg.Error, OSError) as exc:
        print(f"liuhen: {explain(exc, cfg)}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
