"""Reading clues, cases and bulletins, in a district scope.

A case shows its links both ways: the case a dual investigation came from, the cases
it opened, and its sibling (the other leader's), so from any of them the whole set is
one step away. The history is the stream itself, texts included: these views are for
the inspection and campaign-office roles only (the gateway's policy).
"""

from datetime import date, datetime

from psycopg.rows import dict_row

from contracts.accountability import CASE_ID, CLUE_ID, CLUE_KINDS, MEASURES
from eventlog import paging
from eventlog.deadlines import TZ, local_iso
from eventlog.tenancy import district_scope

from .assessment import parse_period
from .handlers import NotFound

CLUE_COLUMNS = """id, district, kind, mandatory, unit, subject, source_type, source_id,
    status, grounds, case_id, registered_at, updated_at"""
CASE_COLUMNS = """id, district, clue_id, unit, subject, subject_role, origin,
    linked_from, status, substantiated, exemption, exemption_grounds, measures,
    severity, collective_decision, mitigated, reference, bulletin_id, notified_at,
    appeal_until, appeal_outcome, outcome, opened_at, updated_at"""


def _row(row: dict) -> dict:
    return {
        k: v.isoformat()
        if isinstance(v, date) and not isinstance(v, datetime)
        else local_iso(v)
        for k, v in row.items()
    }


def _one(conn, sql, args) -> dict | None:
    return conn.cursor(row_factory=dict_row).execute(sql, args).fetchone()


def _history(conn, stream_id) -> list[dict]:
    return [
        {
            "version": v,
            "type": t,
            "actor": a,
            "reason": r,
            "data": data,
            "at": local_iso(at),
            "correlation_id": corr,
            "causation_id": cause,
        }
        for v, t, a, r, data, at, corr, cause in conn.execute(
            "SELECT stream_version, type, actor, reason, data, occurred_at,"
            " correlation_id, causation_id FROM eventlog.events"
            " WHERE stream_id = %s ORDER BY stream_version",
            (stream_id,),
        ).fetchall()
    ]


def clue(conn, district, clue_id) -> dict:
    with district_scope(conn, district):
        row = _one(
            conn,
            f"SELECT {CLUE_COLUMNS} FROM accountability.clues WHERE id = %s",
            (clue_id,),
        )
        if row is None:
            raise NotFound(f"no clue {clue_id} in district {district}")
        view = _clue(row)
        view["history"] = _history(conn, f"clue-{clue_id}")
    view["summary"] = view["history"][0]["data"].get("summary")
    return view


def _clue(row) -> dict:
    view = _row(row)
    view["kind_name"] = CLUE_KINDS.get(row["kind"])
    view["source"] = {"type": view.pop("source_type"), "id": view.pop("source_id")}
    return view


CLUE_FILTERS = {
    "status": "status = ANY(%s)",
    "kind": "kind = %s",
    "unit": "unit = %s",
    "mandatory": "mandatory = %s",
    "source_id": "source_id = %s",
}


def clues(conn, district, query) -> dict:
    rows, nxt = paging.page(
        conn,
        district,
        select=f"SELECT {CLUE_COLUMNS} FROM accountability.clues",
        order="registered_at",
        key_pattern=CLUE_ID,
        filters=CLUE_FILTERS,
        query=query,
    )
    return {"items": [_clue(r) for r in rows], "next": nxt}


def case(conn, district, case_id) -> dict:
    with district_scope(conn, district):
        row = _one(
            conn,
            f"SELECT {CASE_COLUMNS} FROM accountability.cases WHERE id = %s",
            (case_id,),
        )
        if row is None:
            raise NotFound(f"no case {case_id} in district {district}")
        view = _case(row)
        view["links"] = _links(conn, row)
        view["history"] = _history(conn, f"case-{case_id}")
    return view


def _case(row) -> dict:
    view = _row(row)
    view["measure_names"] = [MEASURES[m] for m in row["measures"]]
    return view


def _links(conn, row) -> list[dict]:
    """The parent, the children, and the siblings of a dual investigation."""
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT id, subject, subject_role, status, linked_from"
            " FROM accountability.cases"
            " WHERE id <> %(id)s AND (id = %(parent)s OR linked_from = %(id)s"
            "   OR (linked_from = %(parent)s))"
            " ORDER BY opened_at, id",
            {"id": row["id"], "parent": row["linked_from"]},
        )
        .fetchall()
    )
    out = []
    for r in rows:
        if r["id"] == row["linked_from"]:
            relation = "dual_investigation_of"
        elif r["linked_from"] == row["id"]:
            relation = "dual_investigation"
        else:
            relation = "sibling"
        out.append(
            {
                "case_id": r["id"],
                "relation": relation,
                "subject": r["subject"],
                "subject_role": r["subject_role"],
                "status": r["status"],
            }
        )
    return out


CASE_FILTERS = {
    "status": "status = ANY(%s)",
    "unit": "unit = %s",
    "origin": "origin = %s",
    "reference": "reference = %s",
    "subject": "subject = %s",
}


def cases(conn, district, query) -> dict:
    rows, nxt = paging.page(
        conn,
        district,
        select=f"SELECT {CASE_COLUMNS} FROM accountability.cases",
        order="opened_at",
        key_pattern=CASE_ID,
        filters=CASE_FILTERS,
        query=query,
    )
    return {"items": [_case(r) for r in rows], "next": nxt}


def bulletins(conn, district, period, now) -> dict:
    found = parse_period(period or now.astimezone(TZ).strftime("%Y-%m"), now)
    with district_scope(conn, district):
        rows = (
            conn.cursor(row_factory=dict_row)
            .execute(
                "SELECT id, case_id, title, body, unit, unit_name, subject_name,"
                " measures, published_on, published_at FROM accountability.bulletins"
                " WHERE published_at >= %s AND published_at < %s"
                " ORDER BY published_at, id",
                (found.starts, found.ends),
            )
            .fetchall()
        )
    return {
        "period": found.code,
        "from": found.starts.date().isoformat(),
        "to": date.fromordinal(found.ends.toordinal() - 1).isoformat(),
        "items": [_row(r) for r in rows],
    }
