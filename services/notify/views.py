"""What notify shows: a viewer's inbox, the district's rules and templates.

An inbox item is addressed to a unit, a role or a person; a viewer (a token's
principal) sees the items of its unit, its role and its subject, in its district
only (row-level security), and nothing else: another's item is simply not found.
"""

import re

from psycopg.rows import dict_row

from eventlog import paging
from eventlog.deadlines import local_iso
from eventlog.tenancy import district_scope

from . import rules, settings, templates

ID = re.compile(r"^N-[0-9a-f]{24}\Z")
COLUMNS = (
    "id, kind, title, body, source_type, correlation_id, created_at, read_at, read_by"
)


def audiences(viewer: dict) -> list[str]:
    out = [f"role:{viewer['role']}", f"person:{viewer['id']}"]
    if viewer.get("unit"):
        out.append(f"unit:{viewer['unit']}")
    return out


def inbox(conn, district: str, viewer: dict, query: dict) -> dict:
    rows, nxt = paging.page(
        conn,
        district,
        select=f"SELECT {COLUMNS} FROM notify.inbox",
        order="created_at",
        key_pattern=ID,
        filters={"unread": "(read_at IS NULL) = %s"},
        query=query,
        extra=(" AND audience = ANY(%s)", [audiences(viewer)]),
    )
    return {"items": [_item(r) for r in rows], "next": nxt}


def item(conn, district: str, notification_id: str) -> dict:
    with district_scope(conn, district):
        row = (
            conn.cursor(row_factory=dict_row)
            .execute(
                f"SELECT {COLUMNS} FROM notify.inbox WHERE id = %s", (notification_id,)
            )
            .fetchone()
        )
    return _item(row)


def _item(row: dict) -> dict:
    return {key: local_iso(value) for key, value in row.items()}


def rule_table(conn, district: str) -> dict:
    with district_scope(conn, district):
        overrides, office = settings.overrides(conn), settings.office(conn)
    defaults = {r.kind: r.channels for r in rules.DEFAULTS}
    return {
        "rules": [
            {
                "kind": r.kind,
                "event_type": r.event_type,
                "recipient": r.recipient,
                "channels": list(r.channels),
                "default_channels": list(defaults[r.kind]),
            }
            for r in rules.effective(overrides)
        ],
        "office": office,
    }


def template_list(conn, district: str) -> dict:
    with district_scope(conn, district):
        found = {kind: settings.template(conn, kind) for kind in rules.KINDS}
    return {
        "items": [
            {
                "kind": kind,
                "title": title,
                "body": body,
                "overridden": overridden,
                "variables": list(templates.variables(kind)),
            }
            for kind, (title, body, overridden) in found.items()
        ]
    }
