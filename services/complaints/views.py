"""Reading complaints, as each role may see them.

Who sees what (DOMAIN.md; the gateway has checked the token's role and district):
- a unit handler sees only complaints dispatched to its own unit, and never who
  complained: to anyone else their complaint simply does not exist (404, not 403,
  so that ids cannot be probed);
- only intake and inspection see the complainant;
- everything runs in the caller's district scope (row-level security).
"""

from psycopg.rows import dict_row

from contracts.complaints import COMPLAINT_ID
from eventlog import paging
from eventlog.deadlines import local_iso
from eventlog.tenancy import all_districts, district_scope

from . import identity
from .handlers import NotFound, query_code_hash

SEES_COMPLAINANT = frozenset({"intake", "inspector"})
# What a unit handler reads of the free text others wrote: the instructions addressed
# to units; not why another unit returned the complaint.
UNIT_READS_REASONS = frozenset(
    {
        "ComplaintDispatched",
        "ComplaintUrged",
        "ComplaintEscalated",
        "ComplaintExtensionApproved",
        "ComplaintExtensionRefused",
        "ComplaintReopened",
        "ComplaintOverdue",
    }
)


# Free text intake writes (notes, what the complainant was told) is read only by
# those who may know who complained.
INTAKE_TEXT = frozenset(
    {
        "ComplaintReceived",
        "ComplaintAccepted",
        "ComplaintRejected",
        "ComplaintMerged",
        "ComplaintFeedbackGiven",
    }
)


def _for(viewer: dict, view: dict) -> dict:
    role = viewer["role"]
    if role in SEES_COMPLAINANT:
        return view
    view["feedback"] = view["reject_reason"] = None  # withheld
    for step in view.get("history", ()):
        hidden = (
            step["type"] not in UNIT_READS_REASONS
            if role == "unit_handler"
            else step["type"] in INTAKE_TEXT
        )
        if hidden:
            step["reason"] = None
    return view


COLUMNS = """id, district, status, channel, kind, category, urgent, title,
    description, unit_complained, persons, location, attachments, anonymous,
    received_by, received_at, updated_at, handling_unit, handling_unit_name,
    dispatched_at, signed_at, due_at, pending_extension, extensions, returns, urged,
    escalated, reopened, overdue, reply, substantiated, replied_on_time, feedback,
    rating, reject_reason, merged_into, closed_at, ruling, version, forwarded_from"""


def _view(row: dict) -> dict:
    out = {key: local_iso(value) for key, value in row.items()}
    loc = out["location"] or {}
    out["location"] = {
        "address": loc.get("address"),
        "lat": float(loc["lat"]) if loc.get("lat") else None,
        "long": float(loc["long"]) if loc.get("long") else None,
    }
    return out


def _unit_clause(viewer: dict) -> tuple[str, list]:
    if viewer["role"] == "unit_handler":
        return " AND handling_unit = %s", [viewer.get("unit")]
    if viewer["role"] == "public":
        # Reports to the discipline hotline (12388), and reports (举报) of misconduct
        # by anyone, are accusations not yet found true: never shown to the public.
        # Nor sealed complaints (sealed.py): the level above's public list is one
        # the district complained about can read too.
        return (
            " AND channel <> '12388' AND kind <> 'report' AND forwarded_from IS NULL",
            [],
        )
    return "", []


def get(conn, district: str, complaint_id: str, viewer: dict) -> dict:
    extra, args = _unit_clause(viewer)
    cur = conn.cursor(row_factory=dict_row)
    with district_scope(conn, district):
        row = cur.execute(
            f"SELECT {COLUMNS} FROM complaints.complaints WHERE id = %s{extra}",
            [complaint_id, *args],
        ).fetchone()
        if row is None:
            raise NotFound(f"no complaint {complaint_id} in district {district}")
        view = _view(row)
        if viewer["role"] in SEES_COMPLAINANT:
            # Whether there is an identity; the identity itself is read on record
            # (identity.read, GET /v1/complaints/{id}/complainant).
            view["complainant"] = identity.summary(conn, complaint_id)
        view["history"] = history(conn, complaint_id)
    return _for(viewer, view)


def history(conn, complaint_id: str) -> list[dict]:
    """Who did what, when and why: the stream's events without their data."""
    rows = conn.execute(
        "SELECT stream_version, type, actor, reason, occurred_at FROM eventlog.events"
        " WHERE stream_id = %s ORDER BY stream_version",
        (f"complaint-{complaint_id}",),
    ).fetchall()
    return [
        {"version": v, "type": t, "actor": a, "reason": r, "at": local_iso(at)}
        for v, t, a, r, at in rows
    ]


FILTERS = {
    "status": "status = ANY(%s)",
    "unit": "handling_unit = %s",
    "channel": "channel = %s",
    "category": "category = %s",
    "overdue": "overdue = %s",
    "received_from": "received_at >= %s",
    "received_to": "received_at < %s",
    "received_until": "received_at <= %s",  # inclusive, as Open311's end_date
    "ids": "id = ANY(%s)",
    "categories": "category = ANY(%s)",
}


def search(conn, district: str, query: dict, viewer: dict) -> dict:
    """A page of complaints, newest first, and the cursor of the next page."""
    rows, nxt = paging.page(
        conn,
        district,
        select=f"SELECT {COLUMNS} FROM complaints.complaints",
        order="received_at",
        key_pattern=COMPLAINT_ID,
        filters=FILTERS,
        query=query,
        extra=_unit_clause(viewer),
    )
    return {"items": [_for(viewer, _view(r)) for r in rows], "next": nxt}


SEALED_NOTE = "此事项由上一级机关办理。The matter is handled at the level above."


def track(conn, code: str) -> dict:
    """What an anonymous complainant may know: status and feedback, nothing else."""
    # Before it knows the district: the query codes' policy admits this read with
    # the cross-district marker only; the complaint is then read in its district.
    with all_districts(conn):
        row = conn.execute(
            "SELECT district, complaint_id FROM complaints.query_codes"
            " WHERE code_hash = %s",
            (query_code_hash(code),),
        ).fetchone()
    if row is None:
        raise NotFound("no complaint has this query code")
    district, complaint_id = row
    with district_scope(conn, district):
        status, feedback, updated, forwarded = conn.execute(
            "SELECT status, feedback, updated_at, forwarded_from"
            " FROM complaints.complaints WHERE id = %s",
            (complaint_id,),
        ).fetchone()
    if forwarded is not None:
        # Sealed (sealed.py): the receiving district's clerk read this code out and
        # may keep it. The status only: no id, no jurisdiction, none of the level
        # above's words, nothing the district could look up or learn from.
        return {"status": status, "note": SEALED_NOTE}
    return {
        "complaint_id": complaint_id,
        "district": district,
        "status": status,
        "feedback": feedback,
        "updated_at": local_iso(updated),
    }


def unit_stats(conn, district: str) -> list[dict]:
    """Per unit: complaints it handles now, how many of those were replied on time
    and rated accepting in their last round; and the marks that stay with the unit
    that earned them: times it returned a complaint, times a deadline passed while
    it held one."""
    with district_scope(conn, district):
        handled = (
            conn.cursor(row_factory=dict_row)
            .execute(
                "SELECT handling_unit AS unit, count(*) AS complaints,"
                " count(*) FILTER (WHERE replied_on_time) AS replied_on_time,"
                " count(*) FILTER (WHERE rating IN"
                " ('satisfied', 'basically_satisfied')) AS satisfied"
                " FROM complaints.complaints"
                " WHERE handling_unit IS NOT NULL GROUP BY handling_unit"
            )
            .fetchall()
        )
        marks = {
            name: dict(
                conn.execute(
                    f"SELECT unit, count(*) FROM complaints.{table}"
                    " WHERE unit IS NOT NULL GROUP BY unit"
                ).fetchall()
            )
            for name, table in (("returns", "returns"), ("overdue", "overdue_marks"))
        }
    zero = {"complaints": 0, "replied_on_time": 0, "satisfied": 0}
    stats = {row["unit"]: row for row in handled}
    for unit in {*marks["returns"], *marks["overdue"]}:
        stats.setdefault(unit, {"unit": unit, **zero})
    return [
        {
            **stats[u],
            "returns": marks["returns"].get(u, 0),
            "overdue": marks["overdue"].get(u, 0),
        }
        for u in sorted(stats)
    ]
