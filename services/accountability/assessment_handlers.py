"""Unit assessment (考核): recording marks, reading scores, publishing a period.

Owns the table `accountability.marks` (migrations/002_assessment.sql) and the
streams `assessment-<district>-<period>`. The rules are assessment.py's (pure); the
rule table and the units are the directory's (services/directory/read.py).
"""

from datetime import datetime
from uuid import UUID

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from eventlog.consumer import first_delivery
from eventlog.handler import handle
from eventlog.model import NewEvent
from eventlog.tenancy import district_scope
from services.directory import read

from . import assessment as a

CONSUMER = "accountability.marks"
# recorded_at: now(), when the consumer records the mark; a rebuild gives the time
# the consumer recorded it (its tracking row's, of the same transaction).
INSERT = """
INSERT INTO accountability.marks
    (event_id, district, unit, type, data, stream_id, position, occurred_at,
     recorded_at)
VALUES (%(event_id)s, %(district)s, %(unit)s, %(type)s, %(data)s, %(stream_id)s,
    %(position)s, %(occurred_at)s, coalesce(%(recorded_at)s::timestamptz, now()))
"""
MARKS = """
SELECT event_id, unit, type, data, stream_id, position, occurred_at
  FROM accountability.marks
 WHERE occurred_at >= %s AND occurred_at < %s
 ORDER BY occurred_at, position
"""


def mark(envelope: dict, recorded_at: datetime | None = None) -> dict:
    """The row of accountability.marks an assessed event makes (INSERT's
    parameters); `unit` None: nobody to charge. `recorded_at` None: now."""
    data = envelope.get("data") or {}
    return {
        "event_id": UUID(str(envelope["event_id"])),
        "district": envelope["district"],
        "unit": data.get("unit"),
        "type": envelope["type"],
        "data": Jsonb(data),
        "stream_id": envelope["stream_id"],
        "position": int(envelope["position"]),
        "occurred_at": datetime.fromisoformat(envelope["occurred_at"]),
        "recorded_at": recorded_at,
    }


def record_mark(store, envelope: dict) -> str:
    """Record an assessed event once, however often it is delivered: "recorded",
    "again" (delivered before) or "no unit" (nothing to charge; acknowledged)."""
    row = mark(envelope)
    with store.transaction(), district_scope(store.conn, row["district"]):
        if not first_delivery(store.conn, CONSUMER, row["event_id"]):
            return "again"
        if not row["unit"]:
            return "no unit"
        store.conn.execute(INSERT, row)
    return "recorded"


def _published(store, district: str, code: str) -> dict | None:
    history = store.read_stream(stream(district, code))
    if not history:
        return None
    first = history[0]
    return {
        "event_id": str(first.event_id),
        "position": first.position,
        "at": first.occurred_at.isoformat(),
        "actor": first.actor,
    }


def stream(district: str, code: str) -> str:
    return f"assessment-{district}-{code}"


def report(store, district: str, code: str | None, now: datetime) -> dict:
    """The period's scores of every unit of the district, ranked (Decimals)."""
    period = a.parse_period(code, now)
    conn = store.conn
    with district_scope(conn, district):
        found = read.district(conn, district)
        if found is None:
            raise a.NotFound(f"no district {district!r} in the directory")
        units = read.units(conn)
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(MARKS, (period.starts, period.ends)).fetchall()
    rules = found["assessment"]
    marks = [a.Mark(**{**r, "event_id": str(r["event_id"])}) for r in rows]
    return {
        "district": district,
        "period": period.code,
        "starts": period.starts.isoformat(),
        "ends": period.ends.isoformat(),
        "as_of": min(now, period.ends).isoformat(),
        "complete": now >= period.ends,
        "bottom": rules.get("bottom", 3),
        "directory_version": found["version"],
        "published": _published(store, district, period.code),
        "rules": rules,
        "units": a.score(rules, units, marks, period),
    }


def unit_report(store, district: str, unit: str, code: str | None, now) -> dict:
    whole = report(store, district, code, now)
    units = whole.pop("units")
    whole.pop("rules")
    mine = [u for u in units if u["unit"] == unit]
    if not mine:
        raise a.NotFound(f"no unit {unit!r} in the directory of {district}")
    return {**whole, "ranked": len(units), "unit": mine[0]}


def publish(store, district: str, code: str, actor, now: datetime) -> dict:
    """AssessmentPublished, once per period and only once the period has ended."""
    result = report(store, district, code, now)
    if not result["complete"]:
        raise a.NotDue(
            f"the period {code} ends {result['ends']}; publish its results after"
        )
    data = {
        "period": result["period"],
        "ranking": [
            {"unit": u["unit"], "score": a.decimal_text(u["score"]), "rank": u["rank"]}
            for u in result["units"]
        ],
        "bottom": [u["unit"] for u in result["units"] if u["admonishing_interview"]],
        "directory_version": result["directory_version"],
    }

    def decide(history):
        if history:
            raise a.IllegalTransition(
                f"the assessment of {district} for {code} was published at "
                f"{history[0].occurred_at.isoformat()} by {history[0].actor}; "
                "a period is published once"
            )
        return [NewEvent("AssessmentPublished", data, str(actor), occurred_at=now)]

    [event] = handle(store, stream(district, code), district, fold=list, decide=decide)
    ranking = [
        {"unit": u["unit"], "score": a.plain(u["score"]), "rank": u["rank"]}
        for u in result["units"]
    ]
    return {
        "district": district,
        "stream_id": event.stream_id,
        "event_id": str(event.event_id),
        "position": event.position,
        "at": event.occurred_at.isoformat(),
        **data,
        "ranking": ranking,  # scores as numbers here; the event has them as text
    }
