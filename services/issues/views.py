"""Reading campaigns, issues, ledgers and the period summary, in a district scope."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from psycopg.rows import dict_row

from contracts.issues import ISSUE_ID, LISTS
from eventlog import paging
from eventlog.deadlines import TZ, local_iso
from eventlog.tenancy import district_scope
from services.directory import read as directory

from .domain import Invalid, fold
from .handlers import NotFound
from .ledger import SUMMARY_FIELDS

COLUMNS = """id, district, campaign_id, unit, list, source, status, manifestation,
    responsible, supervisor, suggested_unit, answer, measures, at_once, progress,
    evidence, due_at, overdue, sent_back, closed_at, closed_on_time, complaint_id,
    registered_at, updated_at"""


def _row(row: dict) -> dict:
    return {k: local_iso(v) for k, v in row.items()}


def _names(conn) -> dict[str, str]:
    return {u["code"]: u["name"] for u in directory.units(conn)}


def campaigns(conn, district, now=None) -> list[dict]:
    with district_scope(conn, district):
        rows = (
            conn.cursor(row_factory=dict_row)
            .execute(
                "SELECT id, district, name, phases, launched_at FROM issues.campaigns"
                " ORDER BY launched_at DESC"
            )
            .fetchall()
        )
    return [_campaign(r, now or datetime.now(TZ)) for r in rows]


def _campaign(row, now) -> dict:
    today = now.astimezone(TZ).date().isoformat()
    current = next(
        (p["phase"] for p in row["phases"] if p["starts_on"] <= today <= p["ends_on"]),
        None,
    )
    return {**_row(row), "current_phase": current}


def campaign(conn, district, campaign_id, now=None) -> dict:
    for c in campaigns(conn, district, now):
        if c["id"] == campaign_id:
            return c
    raise NotFound(f"no campaign {campaign_id} in district {district}")


def _visible(viewer) -> tuple[str, list]:
    if viewer["role"] == "unit_handler":  # its own items and those suggested to it
        return " AND (unit = %s OR suggested_unit = %s)", [viewer["unit"]] * 2
    return "", []


def get(conn, district, issue_id, viewer) -> dict:
    extra, args = _visible(viewer)
    with district_scope(conn, district):
        row = (
            conn.cursor(row_factory=dict_row)
            .execute(
                f"SELECT {COLUMNS} FROM issues.items WHERE id = %s{extra}",
                [issue_id, *args],
            )
            .fetchone()
        )
        if row is None:
            raise NotFound(f"no issue {issue_id} in district {district}")
        view = _row(row)
        view["unit_name"] = _names(conn).get(row["unit"])
        view["history"] = [
            {
                "version": v,
                "type": t,
                "actor": a,
                "reason": r,
                "at": local_iso(at),
                "correlation_id": corr,
                "causation_id": cause,
            }
            for v, t, a, r, at, corr, cause in conn.execute(
                "SELECT stream_version, type, actor, reason, occurred_at,"
                " correlation_id, causation_id FROM eventlog.events"
                " WHERE stream_id = %s ORDER BY stream_version",
                (f"issue-{issue_id}",),
            ).fetchall()
        ]
    return view


FILTERS = {
    "campaign_id": "campaign_id = %s",
    "unit": "unit = %s",
    "list": "list = %s",
    "status": "status = ANY(%s)",
    "overdue": "overdue = %s",
    "complaint_id": "complaint_id = %s",
}


def search(conn, district, query, viewer) -> dict:
    rows, nxt = paging.page(
        conn,
        district,
        select=f"SELECT {COLUMNS} FROM issues.items",
        order="registered_at",
        key_pattern=ISSUE_ID,
        filters=FILTERS,
        query=query,
        extra=_visible(viewer),
    )
    return {"items": [_row(r) for r in rows], "next": nxt}


def units_with_items(conn, district, campaign_id) -> list[str]:
    with district_scope(conn, district):
        return [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT unit FROM issues.items WHERE campaign_id = %s"
                " ORDER BY unit",
                (campaign_id,),
            ).fetchall()
        ]


def ledger_lists(conn, district, campaign_id, unit=None, kind=None) -> dict:
    """{list: [row dicts as services/issues/ledger.py takes them]}, numbered by
    registration order. A unit's ledger holds its own items, and the suggestions it
    made about others (附件3)."""
    where, args = ["campaign_id = %s"], [campaign_id]
    if unit:
        where.append("unit = %s")
        args.append(unit)
    if kind:
        where.append("list = %s")
        args.append(kind)
    with district_scope(conn, district):
        names = _names(conn)
        rows = (
            conn.cursor(row_factory=dict_row)
            .execute(
                "SELECT list, manifestation, responsible, supervisor, measures,"
                " progress,"
                " suggested_unit, status, at_once FROM issues.items"
                f" WHERE {' AND '.join(where)} ORDER BY position",
                args,
            )
            .fetchall()
        )
    lists = {k: [] for k in ((kind,) if kind else LISTS)}
    for r in rows:
        lists[r["list"]].append(_ledger_row(r, names))
    return lists


def _ledger_row(r, names) -> dict:
    if r["list"] == "suggestion":
        return {
            "unit_name": names.get(r["suggested_unit"], r["suggested_unit"]),
            "manifestation": r["manifestation"],
        }
    row = {
        "manifestation": r["manifestation"],
        "responsible": r["responsible"],
        "measures": r["measures"],
    }
    if r["list"] == "problem":
        progress = r["progress"] or ("立行立改" if r["at_once"] else None)
        return {**row, "progress": progress, "supervision": r["supervisor"]}
    return {**row, "supervisor": r["supervisor"]}


def summary(conn, district, campaign_id, period, now) -> dict:
    """What a campaign office collects for a month: per unit, items by state, overdue
    and closed on time, as they stood at the end of the period (or now, for the
    current month). The states are folded from the log up to that moment, so a past
    month's figures stay what they were."""
    info = campaign(conn, district, campaign_id, now)
    local = now.astimezone(TZ)
    period = period or local.strftime("%Y-%m")
    year, month = map(int, period.split("-"))
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=TZ)
    if end <= datetime(local.year, local.month, 1, tzinfo=TZ):
        as_of = end - timedelta(microseconds=1)
    elif period == local.strftime("%Y-%m"):
        as_of = now
    else:
        raise Invalid(f"the period {period} has not begun")
    with district_scope(conn, district):
        names = _names(conn)
        rows = conn.execute(
            "SELECT e.stream_id, e.type, e.data, e.occurred_at"
            " FROM issues.items i JOIN eventlog.events e"
            "   ON e.stream_id = 'issue-' || i.id"
            " WHERE i.campaign_id = %s AND e.occurred_at <= %s"
            " ORDER BY e.stream_id, e.stream_version",
            (campaign_id, as_of),
        ).fetchall()
    counts: dict[str, dict] = {}
    for _, events in groupby(rows, key=lambda r: r[0]):
        history = [Fact(t, d, at) for _, t, d, at in events]
        state = fold(history)
        c = counts.setdefault(state.acting_unit, dict.fromkeys(SUMMARY_FIELDS, 0))
        key = "registered" if state.status == "answered" else state.status
        c[key] += 1
        c["overdue"] += state.overdue_for is not None
        c["closed_on_time"] += any(
            f.type == "IssueClosed" and f.data["on_time"] for f in history
        )
    units = [{"unit_name": names.get(u, u), **counts[u]} for u in sorted(counts)]
    return {
        "scope": info["name"],
        "period": period,
        "as_of": as_of.astimezone(TZ).date().isoformat(),
        "units": units,
    }


@dataclass(frozen=True)
class Fact:
    """An event as the fold reads it."""

    type: str
    data: dict
    occurred_at: datetime
