"""`liuhen pii ...`: complainants' identities, for the operator who answers an
erasure request (services/complaints/identity.py, docs/security-notes/pii.md).

    liuhen pii erase P-7K3M9QXA2B4C --reason "申请人要求删除个人信息"
    liuhen pii erase C-2026-7K3M9QXA          # by the complaint's id
    liuhen pii keygen                         # a new LIUHEN_PII_KEY

Erasure destroys the complainant's data key and records ComplainantErased (no
identity in it) in one transaction, as the application role: the log is untouched,
so `liuhen verify` still passes, and the identity is unreadable everywhere.
"""

import getpass
import sys
from datetime import UTC, datetime

import psycopg

from eventlog.store import EventStore
from eventlog.store import districts as log_districts
from liuhen.cli import Failure


def cmd_erase(args, cfg) -> int:
    from services.complaints import identity

    with psycopg.connect(cfg.app_conninfo, autocommit=True) as conn:
        found = identity.find(conn, log_districts(conn), args.complainant)
        if found is None:
            raise Failure(
                f"no complainant {args.complainant!r}: neither a complainant "
                "reference nor a complaint with a named complainant"
            )
        what = (
            f"complainant {found['ref']} of complaint {found['complaint_id']} "
            f"({found['district']})"
        )
        actor = f"cli:{getpass.getuser()}"
        now = datetime.now(UTC)
        erased = identity.erase(EventStore(conn), found, actor, args.reason, now)
    if not erased:
        when = found["erased_at"]
        print(f"{what} was erased already" + (f" on {when:%Y-%m-%d}" if when else ""))
        return 0
    print(f"erased {what}: its key is destroyed (event {erased[0].event_id})")
    if found["legacy"]:
        print(
            f"liuhen: {what} was recorded before identities were encrypted: it is "
            "hidden everywhere the platform shows it, but its first event keeps it "
            "in plain text (the log is append-only); see docs/security-notes/pii.md",
            file=sys.stderr,
        )
    return 0


def cmd_keygen(args, cfg) -> int:
    from services.complaints import pii

    print(pii.new_master_key())
    print(
        "set LIUHEN_PII_KEY to this in the deployment's secrets (never in the "
        "database); losing it loses every complainant's identity",
        file=sys.stderr,
    )
    return 0


def add_parsers(sub) -> None:
    """The subcommands of this module, on liuhen/cli.py's parser."""
    p = sub.add_parser("pii", help="complainants' identities: erasure, keys")
    psub = p.add_subparsers(dest="pii_command", required=True)
    e = psub.add_parser(
        "erase", help="destroy a complainant's key: the identity becomes unreadable"
    )
    e.add_argument(
        "complainant",
        metavar="COMPLAINANT",
        help="a complainant reference (P-...) or the complaint's id (C-...)",
    )
    e.add_argument(
        "--reason",
        default="erasure requested",
        help="why (recorded with the erasure; do not name the complainant)",
    )
    e.set_defaults(run=cmd_erase)
    k = psub.add_parser("keygen", help="print a new master key for LIUHEN_PII_KEY")
    k.set_defaults(run=cmd_keygen)
