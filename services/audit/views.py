"""What the audit service reads from the log: a case's events, a stream as it stood.

A case is its correlation: the complaint (or clue, or campaign) it began with, and
everything recorded in its name since, by every service: the issue it became, the
clues and cases it led to, the notifications sent. Any id of any of its streams finds
it. Everything is read in the token's district only; another district's case is
simply not found.
"""

from datetime import datetime

from eventlog.model import STREAM_ID
from eventlog.store import COLUMNS, _row
from eventlog.tenancy import district_scope
from services.directory import read as directory

from . import timeline as tl

# Where a bare id may live, most likely first.
CATEGORIES = ("complaint", "case", "clue", "issue", "campaign", "notification")


class NotFound(LookupError):
    pass


def correlation_of(conn, district: str, ref: str) -> str:
    """The case (correlation id) that the stream or bare id `ref` belongs to."""
    candidates = _candidates(ref)
    row = conn.execute(
        "SELECT correlation_id FROM eventlog.events"
        " WHERE stream_id = ANY(%s) AND stream_version = 1 AND district = %s"
        " ORDER BY array_position(%s, stream_id) LIMIT 1",
        (candidates, district, candidates),
    ).fetchone()
    if row is None:
        raise NotFound(f"no case {ref[:60]!r} in district {district}")
    return row[0]


def district_of(conn, ref: str) -> str:
    """For the command line, which has no token: the district of `ref`'s stream."""
    candidates = _candidates(ref)
    rows = conn.execute(
        "SELECT DISTINCT district FROM eventlog.events"
        " WHERE stream_id = ANY(%s) AND stream_version = 1",
        (candidates,),
    ).fetchall()
    if len(rows) != 1:
        raise NotFound(
            f"no case {ref[:60]!r}"
            if not rows
            else f"{ref!r} is in several districts; name one with --district"
        )
    return rows[0][0]


def _candidates(ref: str) -> list[str]:
    candidates = [f"{c}-{ref}" for c in CATEGORIES]
    if STREAM_ID.fullmatch(ref):
        candidates.insert(0, ref)
    return candidates


def _events(conn, where: str, params: dict) -> list:
    rows = conn.execute(f"SELECT {COLUMNS} FROM eventlog.events WHERE {where}", params)
    return [_row(v) for v in rows.fetchall()]


def case(conn, district: str, ref: str, at: datetime | None = None) -> dict:
    """The timeline of the case `ref` belongs to (as recorded by `at`, if given)."""
    correlation = correlation_of(conn, district, ref)
    params = {"c": correlation, "d": district, "at": at}
    events = _events(
        conn,
        "correlation_id = %(c)s AND district = %(d)s"
        + (" AND recorded_at <= %(at)s" if at else "")
        + " ORDER BY events.tx_id, events.position",
        params,
    )
    names = sorted({e.stream_id for e in events})
    streams: dict[str, list] = {name: [] for name in names}
    for e in _events(
        conn,
        "stream_id = ANY(%(s)s) AND district = %(d)s"
        + (" AND recorded_at <= %(at)s" if at else "")
        + " ORDER BY stream_id, stream_version",
        {"s": names, "d": district, "at": at},
    ):
        streams[e.stream_id].append(e)
    entries = tl.timeline(events, streams, unit_names(conn, district))
    return {
        "case": correlation,
        "district": district,
        "as_of": at.isoformat() if at else None,
        "streams": names,
        "verified": all(e["verified"] for e in entries),
        "entries": entries,
    }


def stream(
    conn,
    district: str,
    stream_id: str,
    at: datetime | None = None,
    version: int | None = None,
) -> dict:
    """The stream as it stood at `at` (recorded by then) or at `version`."""
    history = _events(
        conn,
        "stream_id = %(s)s AND district = %(d)s ORDER BY stream_version",
        {"s": stream_id, "d": district},
    )
    if not history:
        raise NotFound(f"no stream {stream_id[:80]!r} in district {district}")
    then = [
        e
        for e in history
        if (at is None or e.recorded_at <= at)
        and (version is None or e.stream_version <= version)
    ]
    entries = tl.timeline(then, {stream_id: then}, unit_names(conn, district))
    state = tl.states(then)[then[-1].stream_version] if then else tl.State()
    return {
        "stream_id": stream_id,
        "district": district,
        "version": state.version,
        "current_version": history[-1].stream_version,
        "status": state.status,
        "as_of": at.isoformat() if at else None,
        "state": state.fields,
        "last_event": entries[-1] if entries else None,
        "verified": all(e["verified"] for e in entries),
    }


def unit_names(conn, district: str) -> dict[str, str]:
    with district_scope(conn, district):
        return {u["code"]: u["name"] for u in directory.units(conn)}
