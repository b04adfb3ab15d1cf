"""The `liuhen` command line: the composition root for operators.

Every failure ends with one readable line on stderr and a non-zero exit:
1 when the answer is "no" (a broken chain), 2 when the command could not run.
"""

import argparse
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


def cmd_verify(args, cfg) -> int:
    from rich.progress import Progress

    from eventlog.verify import verify

    scope = (
        f"stream {args.stream}"
        if args.stream
        else f"district {args.district}"
        if args.district
        else "the whole log"
    )
    with (
        psycopg.connect(cfg.app_conninfo, autocommit=True) as conn,
        Progress(transient=True, disable=not sys.stderr.isatty()) as progress,
    ):
        task = progress.add_task(f"verifying {scope}", total=None)
        report = verify(
            conn,
            district=args.district,
            stream_id=args.stream,
            on_progress=lambda done, total: progress.update(
                task, completed=done, total=total
            ),
        )
    if report.ok:
        print(f"intact: {report.checked} events in {report.streams} streams ({scope})")
        return 0
    print(
        f"BROKEN at {report.first} ({len(report.breaks)} breaks in "
        f"{report.checked} events)",
        file=sys.stderr,
    )
    for brk in sorted(report.breaks, key=lambda b: b.position)[: args.show]:
        print(f"  {brk}", file=sys.stderr)
    return 1


def cmd_relay(args, cfg) -> int:
    from eventlog.relay import Relay
    from liuhen.launcher import stop_on_signals

    relay = Relay(cfg.app_conninfo, cfg.amqp_uri, name=args.name)
    relay.run(stop_on_signals())
    return 0


def cmd_up(args, cfg) -> int:
    from liuhen.launcher import up

    return up(cfg)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="liuhen", description="留痕 platform command line")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "migrate", help="create the database and roles, apply migrations"
    ).set_defaults(run=cmd_migrate)
    v = sub.add_parser("verify", help="verify the hash chains of the event log")
    scope = v.add_mutually_exclusive_group()
    scope.add_argument("--district", help="only this district's streams")
    scope.add_argument(
        "--stream", help="only this stream, e.g. complaint-C-2026-000001"
    )
    v.add_argument("--show", type=int, default=20, help="how many breaks to list")
    v.set_defaults(run=cmd_verify)
    r = sub.add_parser("relay", help="publish committed events to RabbitMQ")
    r.add_argument(
        "--name", default="relay", help="checkpoint name (one per relay group)"
    )
    r.set_defaults(run=cmd_relay)
    sub.add_parser(
        "up", help="migrate and run every service until Ctrl-C"
    ).set_defaults(run=cmd_up)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    logs.configure()
    cfg = settings.load()
    try:
        return args.run(args, cfg)
    except psycopg.OperationalError as exc:
        reason = (
            str(exc).strip().splitlines()[-1]
            if str(exc).strip()
            else type(exc).__name__
        )
        print(
            f"liuhen: cannot reach PostgreSQL ({cfg.database_url}): {reason}",
            file=sys.stderr,
        )
    except (Failure, psycopg.Error, OSError) as exc:
        print(f"liuhen: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
