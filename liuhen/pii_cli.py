"""`liuhen pii ...`: complainants' identities, for the operator who answers an
erasure request (services/complaints/identity.py, docs/security-notes/pii.md).

    liuhen pii erase P-7K3M9QXA2B4C --reason "申请人要求删除个人信息"
    liuhen pii erase C-2026-7K3M9QXA          # by the complaint's id
    liuhen pii erase --phone 13900000000      # by phone or email (--email E)
    liuhen pii keygen                         # a new LIUHEN_PII_KEY

Erasure destroys the complainant's data key and blind indexes and records
ComplainantErased (no identity in it) in one transaction, as the application role:
the log is untouched, so `liuhen verify` still passes, and the identity is unreadable
everywhere, in every complaint of the person (one key per person: blind.py). By phone
or email, the person is found by blind index (LIUHEN_PII_KEY needed), in every
district, without opening any identity.
"""

import getpass
import os
import sys
from datetime import UTC, datetime

import psycopg

from eventlog.store import EventStore
from eventlog.store import districts as log_districts
from liuhen.cli import Failure


def cmd_erase(args, cfg) -> int:
    given = [x for x in (args.complainant, args.phone, args.email) if x]
    if len(given) != 1:
        raise Failure("name one of COMPLAINANT, --phone or --email")
    with psycopg.connect(cfg.app_conninfo, autocommit=True) as conn:
        for found in _found(conn, args):
            _erase_one(conn, found, args.reason)
    return 0


def _found(conn, args) -> list[dict]:
    from services.complaints import blind, identity, pii

    districts = log_districts(conn)
    if args.complainant:
        found = identity.find(conn, districts, args.complainant)
        if found is None:
            raise Failure(
                f"no complainant {args.complainant!r}: neither a complainant "
                "reference nor a complaint with a named complainant"
            )
        return [found]
    field = "phone" if args.phone else "email"
    try:
        keyring = pii.Keyring(pii.parse_master_key(os.environ.get("LIUHEN_PII_KEY")))
    except pii.KeyMissing as exc:
        raise Failure(f"--{field} needs the master key: {exc}") from None
    refs = blind.refs(conn, keyring, districts, field, args.phone or args.email)
    if not refs:
        raise Failure(f"no complainant (not erased) with this {field}")
    return [identity.find(conn, [district], ref) for district, ref in refs]


def _erase_one(conn, found: dict, reason: str) -> None:
    from services.complaints import identity

    ids = found["complaint_ids"]
    what = (
        f"complainant {found['ref']} of complaint{'s' if len(ids) > 1 else ''} "
        f"{', '.join(ids)} ({found['district']})"
    )
    actor = f"cli:{getpass.getuser()}"
    erased = identity.erase(EventStore(conn), found, actor, reason, datetime.now(UTC))
    if not erased:
        when = found["erased_at"]
        print(f"{what} was erased already" + (f" on {when:%Y-%m-%d}" if when else ""))
        return
    print(f"erased {what}: its key is destroyed (event {erased[0].event_id})")
    if found["legacy"]:
        print(
            f"liuhen: {what} was recorded before identities were encrypted: it is "
            "hidden everywhere the platform shows it, but its first event keeps it "
            "in plain text (the log is append-only); see docs/security-notes/pii.md",
            file=sys.stderr,
        )


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
        nargs="?",
        help="a complainant reference (P-...) or the complaint's id (C-...)",
    )
    e.add_argument("--phone", help="the person with this phone, in every district")
    e.add_argument("--email", help="the person with this email, in every district")
    e.add_argument(
        "--reason",
        default="erasure requested",
        help="why (recorded with the erasure; do not name the complainant)",
    )
    e.set_defaults(run=cmd_erase)
    k = psub.add_parser("keygen", help="print a new master key for LIUHEN_PII_KEY")
    k.set_defaults(run=cmd_keygen)
