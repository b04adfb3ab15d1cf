"""The complaints read model, kept in the same transaction as the events.

`apply(store, recorded)` is handle()'s `project`: the district is already set for
row-level security. Each event type is one short statement; every event also moves
the row's `updated_at` and `version` (the stream version it reflects).
"""

from psycopg.types.json import Jsonb

from contracts.registry import REGISTRY
from eventlog.model import RecordedEvent

RECEIVED = """
INSERT INTO complaints.complaints (id, district, status, channel, kind, category,
    urgent, title, description, unit_complained, persons, location, attachments,
    anonymous, received_by, received_at, updated_at, version, forwarded_from)
VALUES (%(id)s, %(district)s, 'received', %(channel)s, %(kind)s, %(category)s,
    %(urgent)s, %(title)s, %(description)s, %(unit_complained)s, %(persons)s,
    %(location)s, %(attachments)s, %(anonymous)s, %(actor)s, %(at)s, %(at)s, 1,
    %(received_in)s)
"""
# The identity encrypted (identity.py); a legacy row (schema 1: the identity in plain
# text in its event) keeps nothing of it here but which fields were given.
COMPLAINANT = """
INSERT INTO complaints.complainants (complaint_id, district, ref, ciphertext, given,
    legacy)
VALUES (%(id)s, %(district)s, %(complainant_ref)s, %(complainant_ciphertext)s,
    %(complainant_given)s, %(legacy)s)
"""
ERASED = """
UPDATE complaints.complainants SET ciphertext = NULL, erased_at = %s WHERE ref = %s
"""
QUERY_CODE = """
INSERT INTO complaints.query_codes (code_hash, district, complaint_id)
VALUES (%s, %s, %s)
"""
OVERDUE = """
INSERT INTO complaints.overdue_marks (event_id, district, complaint_id, unit, due_at,
    marked_at) VALUES (%(event_id)s, %(district)s, %(id)s, %(unit)s, %(due_at)s,
    %(at)s)
"""
RETURN = """
INSERT INTO complaints.returns (event_id, district, complaint_id, unit, reason,
    returned_at) VALUES (%(event_id)s, %(district)s, %(id)s, %(unit)s, %(reason)s,
    %(at)s)
"""
TIMER = """
INSERT INTO complaints.timers (complaint_id, district, due_at, remind_at)
VALUES (%(id)s, %(district)s, %(due_at)s, %(remind_at)s)
ON CONFLICT (complaint_id) DO UPDATE SET due_at = excluded.due_at,
    remind_at = excluded.remind_at, overdue_marked = false, reminded = false
"""
NO_TIMER = "DELETE FROM complaints.timers WHERE complaint_id = %(id)s"

# type -> SET clause of the complaint row (parameters from `_params`)
SETS = {
    "ComplaintAccepted": "status = 'accepted'",
    "ComplaintRejected": "status = 'rejected', reject_reason = %(reason)s",
    "ComplaintMerged": "status = 'merged', merged_into = %(into)s",
    # A dispatch starts a round: the last round's reply and rating are history.
    "ComplaintDispatched": "status = 'dispatched', handling_unit = %(unit)s, "
    "handling_unit_name = %(unit_name)s, dispatched_at = %(at)s, signed_at = NULL, "
    "reply = NULL, substantiated = NULL, replied_on_time = NULL, feedback = NULL, "
    "rating = NULL",
    "ComplaintSigned": "status = 'in_progress', signed_at = %(at)s, "
    "due_at = %(due_at)s, remind_at = %(remind_at)s",
    "ComplaintReturned": "status = 'returned', returns = returns + 1, "
    "due_at = NULL, remind_at = NULL, pending_extension = NULL",
    "ComplaintExtensionRequested": "pending_extension = %(days)s",
    "ComplaintExtensionApproved": "pending_extension = NULL, "
    "extensions = extensions + 1, due_at = %(due_at)s, remind_at = %(remind_at)s, "
    "overdue = false",
    "ComplaintExtensionRefused": "pending_extension = NULL",
    "ComplaintReplied": "status = 'replied', reply = %(result)s, "
    "substantiated = %(substantiated)s, replied_on_time = %(on_time)s, "
    "pending_extension = NULL",
    "ComplaintFeedbackGiven": "status = 'fed_back', feedback = %(text)s",
    "ComplaintRated": "rating = %(rating)s",
    "ComplaintReopened": "status = 'reopened', reopened = reopened + 1, "
    "due_at = NULL, remind_at = NULL, overdue = false",
    "ComplaintClosed": "status = 'closed', closed_at = %(at)s, ruling = %(ruling)s",
    "ComplaintUrged": "urged = urged + 1",
    "ComplaintEscalated": "escalated = escalated + 1",
    "ComplaintOverdue": "overdue = true",
}
UPDATE = (
    "UPDATE complaints.complaints SET {sets}, updated_at = %(at)s, "
    "version = %(version)s WHERE id = %(id)s"
)
# type -> what happens to the complaint's timer row
TIMERS = {
    "ComplaintSigned": TIMER,
    "ComplaintExtensionApproved": TIMER,
    "ComplaintReturned": NO_TIMER,
    "ComplaintReplied": NO_TIMER,
    "ComplaintReopened": NO_TIMER,
    "ComplaintClosed": NO_TIMER,
    "ComplaintOverdue": "UPDATE complaints.timers SET overdue_marked = true "
    "WHERE complaint_id = %(id)s",
    "ComplaintDeadlineNear": "UPDATE complaints.timers SET reminded = true "
    "WHERE complaint_id = %(id)s",
}


def complaint_id(stream_id: str) -> str:
    return stream_id.split("-", 1)[1]


def _params(e: RecordedEvent) -> dict:
    data = e.data
    return {
        **data,
        "id": complaint_id(e.stream_id),
        "district": e.district,
        "at": e.occurred_at,
        "actor": e.actor,
        "reason": e.reason,
        "version": e.stream_version,
        "event_id": e.event_id,
        "ruling": e.reason if data.get("by_ruling") else None,
    }


def apply(store, recorded: list[RecordedEvent]) -> None:
    conn = store.conn
    for e in recorded:
        if e.category == "complainant":  # identity.py: reads and the erasure
            if e.type == "ComplainantErased":
                conn.execute(ERASED, (e.occurred_at, complaint_id(e.stream_id)))
            continue
        p = _params(e)
        if e.type == "ComplaintReceived":
            _received(conn, e, p)
            continue
        sets = SETS.get(e.type)
        conn.execute(
            UPDATE.format(sets=sets) if sets else UPDATE.format(sets="status = status"),
            p,
        )
        if e.type == "ComplaintReturned":
            conn.execute(RETURN, p)
        if e.type == "ComplaintOverdue":
            conn.execute(OVERDUE, p)
        if e.type in TIMERS:
            conn.execute(TIMERS[e.type], p)


def _received(conn, e: RecordedEvent, p: dict) -> None:
    conn.execute(
        RECEIVED,
        {
            **p,
            "persons": Jsonb(p["persons"]),
            "location": Jsonb(p["location"]),
            "attachments": Jsonb(p["attachments"]),
            # sealed (sealed.py): the district that received it; None otherwise
            "received_in": (p.get("forwarded_from") or {}).get("district"),
        },
    )
    # Schema 1 upcast drops the plain identity (contracts/complaints.py).
    _, who = REGISTRY.upcast(e.type, e.schema_version, e.data)
    if who["complainant_ref"]:
        legacy = who["complainant_ciphertext"] is None
        conn.execute(
            COMPLAINANT,
            {**who, "id": p["id"], "district": e.district, "legacy": legacy},
        )
    if p.get("query_code_hash"):
        conn.execute(QUERY_CODE, (p["query_code_hash"], e.district, p["id"]))
