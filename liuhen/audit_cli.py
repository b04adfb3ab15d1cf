"""`liuhen verify`, `liuhen digest ...` and `liuhen audit ...`: the log's integrity and
a case's history, for operators and inspectors at a terminal.

`liuhen verify --json` prints exactly what `GET /v1/audit/verify` answers (both are
eventlog/integrity.py's report); `liuhen audit replay` prints the timeline
`GET /v1/audit/cases/{id}` gives.
"""

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from eventlog import digests, integrity
from eventlog.deadlines import TZ
from liuhen.cli import Failure


def parse_time(text: str) -> datetime:
    """ISO 8601; without a zone, China time (what an inspector means)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Failure(f"--at {text!r} is not a time (e.g. 2026-10-05T09:30)") from None
    return value if value.tzinfo else value.replace(tzinfo=TZ)


def trusted(cfg):
    try:
        return digests.trusted_keys(cfg.digest_key, cfg.digest_public_keys)
    except digests.DigestKeyError as exc:
        raise Failure(str(exc)) from None


def kept_digests(path: str) -> list[tuple[digests.Digest, str]]:
    """Digests kept outside the database: a JSON array or JSON lines, each a
    DigestRecorded envelope (as received over AMQP or the feed) or its data."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise Failure(f"cannot read {path}: {exc.strerror}") from None
    try:
        items = (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
        out = []
        for n, item in enumerate(items, 1):
            data = item.get("data", item) if isinstance(item, dict) else None
            out.append((digests.Digest.of(data), f"{Path(path).name} #{n}"))
    except ValueError as exc:  # JSON errors and MalformedDigest alike
        raise Failure(
            f"{path} does not hold digests ({type(exc).__name__}: {exc})"
        ) from None
    return out


def cmd_verify(args, cfg) -> int:
    from rich.progress import Progress

    if args.stream and args.digests:
        raise Failure("--digests checks districts; it does not go with --stream")
    keys = trusted(cfg)
    kept = kept_digests(args.digests) if args.digests else []
    with (
        psycopg.connect(cfg.app_conninfo, autocommit=True) as conn,
        Progress(transient=True, disable=args.json or not sys.stderr.isatty()) as bar,
    ):
        task = bar.add_task("verifying", total=None)
        report = integrity.report(
            conn,
            district=args.district,
            stream_id=args.stream,
            keys=keys,
            kept=kept,
            on_progress=lambda done, total: bar.update(
                task, completed=done, total=total
            ),
        )
    if report["events"] == 0 and (args.stream or args.district):
        # A typo'd id would otherwise verify as "intact": say nothing was checked.
        raise Failure(f"no events in {report['scope']}")
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0 if report["ok"] else 1
    seals = report["digests"]
    sealed = (
        f"; {seals['checked']} digests match (signatures {seals['signatures']})"
        if seals["checked"]
        else ""
    )
    if report["ok"]:
        print(
            f"intact: {report['events']} events in {report['streams']} streams "
            f"({report['scope']}){sealed}"
        )
        return 0
    breaks = report["breaks"]
    failed = [f for f in seals["findings"] if not f["ok"]]
    first = f"at {breaks[0]['text']}" if breaks else f"digest: {failed[0]['text']}"
    print(
        f"BROKEN {first} ({len(breaks)} breaks in {report['events']} events, "
        f"{len(failed)} of {seals['checked']} digests fail)",
        file=sys.stderr,
    )
    for item in (breaks[: args.show]) + failed[: args.show]:
        print(f"  {item['text']}", file=sys.stderr)
    return 1


def cmd_digest_keygen(args, cfg) -> int:
    try:
        public = digests.new_key(Path(args.out))
    except digests.DigestKeyError as exc:
        raise Failure(str(exc)) from None
    except OSError as exc:
        raise Failure(f"cannot write {args.out}: {exc.strerror}") from None
    print(digests.public_text(public))
    print(
        f"key {digests.key_id(public)} written to {args.out}; set LIUHEN_DIGEST_KEY to "
        "it, and give the line above (the public key) to whoever checks digests",
        file=sys.stderr,
    )
    return 0


def cmd_digest_record(args, cfg) -> int:
    from eventlog.store import EventStore
    from services.audit.digests import DigestChainError, Memory, record, record_all

    if not cfg.digest_key:
        raise Failure("set LIUHEN_DIGEST_KEY to the signing key (liuhen digest keygen)")
    try:
        key = digests.load_private(cfg.digest_key)
    except digests.DigestKeyError as exc:
        raise Failure(str(exc)) from None
    # The same memory as the audit service's (LIUHEN_DIGEST_MEMORY there).
    memory = Memory(
        os.environ.get("LIUHEN_DIGEST_MEMORY") or f"{cfg.digest_key}.signed.json"
    )
    with psycopg.connect(cfg.app_conninfo, autocommit=True) as conn:
        store = EventStore(conn)
        if args.district:
            try:
                made, refused = [record(store, args.district, key, memory)], {}
            except DigestChainError as exc:
                made, refused = [], {args.district: str(exc)}
        else:
            made, refused = record_all(store, key, memory)
    made = [d for d in made if d is not None]
    for d in made:
        print(json.dumps(d.data()))
    for district, reason in refused.items():
        print(f"liuhen: {district}: {reason}", file=sys.stderr)
    print(f"{len(made)} digests recorded", file=sys.stderr)
    return 1 if refused else 0


def _case(conn, ref: str, district: str | None, at):
    from services.audit import views

    try:
        district = district or views.district_of(conn, ref)
        return views.case(conn, district, ref, at)
    except views.NotFound as exc:
        raise Failure(str(exc)) from None


def cmd_audit_replay(args, cfg) -> int:
    from services.audit import views

    at = parse_time(args.at) if args.at else None
    with psycopg.connect(cfg.app_conninfo, autocommit=True) as conn:
        case = _case(conn, args.case, args.district, at)
        states = [views.stream(conn, case["district"], s, at) for s in case["streams"]]
    console = Console(width=max(120, Console().width))
    print_timeline(console, case)
    if at is not None:
        print_states(console, states, at)
    return 0 if case["verified"] else 1


def print_timeline(console: Console, case: dict) -> None:
    as_of = f"，截至 {case['as_of']}" if case["as_of"] else ""
    table = Table(
        title=f"案件 {case['case']}（{case['district']}{as_of}）",
        show_lines=True,
        expand=True,
    )
    for name, style in (
        ("#", "dim"),
        ("时间", ""),
        ("环节", "bold"),
        ("经办", ""),
        ("内容", ""),
        ("校验", ""),
    ):
        table.add_column(name, style=style or None, overflow="fold")
    for e in case["entries"]:
        text = e["summary"]
        if e["reason"]:
            text += f"\n理由：{e['reason']}"
        if e["caused_by"]:
            text += f"\n（由 #{e['caused_by']} 引起）"
        for c in e["changes"]:
            text += f"\n  {c['field']}: {_show(c['before'])} → {_show(c['after'])}"
        mark = "[green]✓[/]" if e["verified"] else f"[red]✗ {e['problem']}[/]"
        when = datetime.fromisoformat(e["occurred_at"]).astimezone(TZ)
        table.add_row(
            str(e["position"]),
            when.strftime("%Y-%m-%d %H:%M"),
            f"{e['label']}\n[dim]{e['stream_id']} v{e['stream_version']}[/]",
            e["actor"],
            text,
            mark,
        )
    console.print(table)
    verdict = (
        "[green]每条事件哈希校验通过[/]"
        if case["verified"]
        else "[red]有事件未通过校验[/]"
    )
    console.print(f"{len(case['entries'])} 条事件；{verdict}")


def print_states(console: Console, states: list[dict], at: datetime) -> None:
    console.print(f"\n[bold]{at.isoformat()} 时的状态[/]")
    for s in states:
        console.print(
            f"{s['stream_id']}: version {s['version']} of {s['current_version']}, "
            f"status {s['status']}"
        )
        for key, value in s["state"].items():
            console.print(f"    {key}: {_show(value)}", highlight=False)


def _show(value) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def cmd_audit_dossier(args, cfg) -> int:
    from services.audit import dossier

    at = parse_time(args.at) if args.at else None
    with psycopg.connect(cfg.app_conninfo, autocommit=True) as conn:
        case = _case(conn, args.case, args.district, at)
    html = dossier.render(case, datetime.now(TZ))
    try:
        Path(args.out).write_text(html, encoding="utf-8")
    except OSError as exc:
        raise Failure(f"cannot write {args.out}: {exc.strerror}") from None
    print(f"{args.out}: {len(case['entries'])} events of case {case['case']}")
    return 0


def add_parsers(sub) -> None:
    """The subcommands of this module, on liuhen/cli.py's parser."""
    v = sub.add_parser("verify", help="verify the hash chains and signed digests")
    scope = v.add_mutually_exclusive_group()
    scope.add_argument("--district", help="only this district's streams and digests")
    scope.add_argument(
        "--stream", help="only this stream, e.g. complaint-C-2026-000001"
    )
    v.add_argument("--show", type=int, default=20, help="how many problems to list")
    v.add_argument(
        "--json", action="store_true", help="the report as JSON (as the API)"
    )
    v.add_argument(
        "--digests", metavar="FILE", help="also check digests kept here (JSON lines)"
    )
    v.set_defaults(run=cmd_verify)

    d = sub.add_parser("digest", help="signed digests of each district's log")
    dsub = d.add_subparsers(dest="digest_command", required=True)
    kg = dsub.add_parser("keygen", help="write a new Ed25519 signing key")
    kg.add_argument("--out", required=True, help="the private key file (PEM, 0600)")
    kg.set_defaults(run=cmd_digest_keygen)
    rec = dsub.add_parser("record", help="sign and record digests now")
    rec.add_argument("--district", help="only this district")
    rec.set_defaults(run=cmd_digest_record)

    a = sub.add_parser("audit", help="a case's full history")
    asub = a.add_subparsers(dest="audit_command", required=True)
    rp = asub.add_parser("replay", help="print a case's timeline")
    dz = asub.add_parser("dossier", help="write a case's printable dossier (HTML)")
    for p in (rp, dz):
        p.add_argument("case", help="any id of the case: C-..., CA-..., a stream id")
        p.add_argument("--at", help="as recorded by this time (ISO 8601; China time)")
        p.add_argument("--district", help="where the id is ambiguous")
    dz.add_argument("--out", required=True, help="the HTML file to write")
    rp.set_defaults(run=cmd_audit_replay)
    dz.set_defaults(run=cmd_audit_dossier)
