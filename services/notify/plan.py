"""From one published event to the notifications it calls for: who, how, with what.

Call inside the event's district scope (row-level security on the directory and on
notify's tables). Everything here reads the public envelope (no complainant
identity is in it) and the directory; the complainant's contact comes in as
`contact`, from the complaints service, and only decides the channel: no address,
no name goes into what is planned.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import dict_row

from contracts.accountability import MEASURES
from eventlog.deadlines import TZ

from . import rules


@dataclass(frozen=True)
class Planned:
    id: str
    kind: str
    recipient: str  # complainant | person:<id> | unit:<code> | role:<role>
    channel: str
    context: dict


def notification_id(event_id: str, recipient: str, channel: str) -> str:
    """One notification per (event, recipient, channel), whatever the redelivery."""
    key = f"{event_id}|{recipient}|{channel}".encode()
    return "N-" + hashlib.sha256(key).hexdigest()[:24]


def local_text(value) -> str | None:
    """`2026-09-30T17:00:00+08:00` -> `2026年9月30日 17:00`, as a notice reads."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(str(value)).astimezone(TZ)
    except ValueError:
        return str(value)
    return f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}"


def _rows(conn, sql: str, args: tuple) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, args).fetchall()


def unit_of(conn, envelope: dict) -> str | None:
    data = envelope.get("data") or {}
    if data.get("unit"):
        return data["unit"]
    found = conn.execute(
        "SELECT unit FROM notify.units_of WHERE stream_id = %s",
        (envelope["stream_id"],),
    ).fetchone()
    return found[0] if found else None


def context(conn, envelope: dict, unit: str | None) -> dict:
    """What a template may use (templates.VARIABLES): public data and names."""
    data = envelope.get("data") or {}
    names = dict(conn.execute("SELECT code, name FROM directory.units").fetchall())
    district = conn.execute(
        "SELECT name FROM directory.districts WHERE district = %s",
        (envelope["district"],),
    ).fetchone()
    return {
        "district_name": district[0] if district else envelope["district"],
        "event_type": envelope["type"],
        "ref": envelope["stream_id"].split("-", 1)[1],
        "unit": unit,
        "unit_name": data.get("unit_name") or names.get(unit),
        "due_at": local_text(data.get("due_at")),
        "occurred_at": local_text(envelope["occurred_at"]),
        "measures": [MEASURES.get(m, m) for m in data.get("measures") or ()],
        "title": data.get("title"),
        "period": data.get("period"),
        "bottom": [names.get(u, u) for u in data.get("bottom") or ()],
    }


def _people(conn, ids) -> list[dict]:
    return _rows(
        conn,
        "SELECT id, email, phone FROM directory.people WHERE id = ANY(%s) ORDER BY id",
        (list(ids),),
    )


def audience(conn, rule, unit, data, office) -> tuple[str | None, list[dict]]:
    """(inbox audience, people with their addresses) of a staff rule."""
    if rule.recipient == "unit":
        if not unit:
            return None, []
        people = _rows(
            conn,
            "SELECT id, email, phone FROM directory.people WHERE unit = %s ORDER BY id",
            (unit,),
        )
        return f"unit:{unit}", people
    if rule.recipient == "supervisor":
        found = conn.execute(
            "SELECT leader_in_charge FROM directory.units WHERE code = %s", (unit,)
        ).fetchone()
        if found is None:
            return None, []
        return f"person:{found[0]}", _people(conn, [found[0]])
    if rule.recipient == "subject":
        subject = data.get("subject")
        if not subject:
            return None, []
        return f"person:{subject}", _people(conn, [subject])
    if rule.recipient == "office":
        return "role:campaign_office", _people(conn, office)
    return "role:intake", []


def plan(conn, envelope, matching, office, contact) -> list[Planned]:
    """The notifications `matching` rules call for (rules.for_event's)."""
    unit = unit_of(conn, envelope)
    ctx = context(conn, envelope, unit)
    out = []

    def add(kind, recipient, channel):
        nid = notification_id(envelope["event_id"], recipient, channel)
        if any(p.id == nid for p in out):  # one person reached by two rules
            return
        out.append(Planned(nid, kind, recipient, channel, ctx))

    for rule in matching:
        if rule.recipient == "complainant":
            for channel in rules.complainant_channels(rule.channels, contact or {}):
                add(rule.kind, "complainant", channel)
            continue
        inbox, people = audience(conn, rule, unit, envelope.get("data") or {}, office)
        for channel in rule.channels:
            if channel == "inbox" and inbox:
                add(rule.kind, inbox, "inbox")
            for person in people if channel != "inbox" else ():
                if person["email" if channel == "email" else "phone"]:
                    add(rule.kind, f"person:{person['id']}", channel)
    return out
