"""The complaint aggregate: its state, `decide` and `evolve`. Pure: time and the
official calendar are passed in.

    received -> accepted | rejected | merged
    accepted -> dispatched -> in_progress (signed: the clock starts) | returned
    returned -> dispatched (the clock, if it ran, is paused meanwhile)
    in_progress -> replied -> fed_back -> (rated) closed | reopened -> dispatched ...

Urging, escalation, extension, overdue and the reminder happen beside the main line.
Anything asked in the wrong state raises IllegalTransition naming both.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from functools import reduce

from contracts.vocabulary import ACCEPTING_RATINGS
from eventlog.deadlines import TZ, TimeLimit, count_days, due_at, reminder_at
from eventlog.model import NewEvent

from . import commands as c


class DomainError(Exception):
    code = "invalid"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class NotYourUnit(DomainError):
    code = "forbidden"


class NotDue(DomainError):
    """The timer asked too early or twice: nothing to do, not a failure."""

    code = "not_due"


@dataclass(frozen=True)
class Complaint:
    id: str | None = None
    status: str | None = None  # None: nothing received yet
    kind: str = "complaint"
    urgent: bool = False
    handling_unit: str | None = None
    limit: TimeLimit | None = None
    clock_started_at: datetime | None = None
    extra_days: int = 0  # approved extensions and paused days, in the limit's unit
    paused_at: datetime | None = None
    due_at: datetime | None = None
    overdue_for: datetime | None = None  # the deadline already marked overdue
    reminded_for: datetime | None = None
    pending_extension: int | None = None
    rating: str | None = None
    handed_over_to: frozenset[str] = frozenset()  # campaigns it became an issue in


# command -> (statuses it may be obeyed in, verb for errors)
ALLOWED = {
    c.AcceptComplaint: ({"received"}, "accept"),
    c.RejectComplaint: ({"received", "accepted", "returned"}, "reject"),
    c.MergeComplaint: ({"received", "accepted"}, "merge"),
    c.DispatchComplaint: ({"accepted", "returned", "reopened"}, "dispatch"),
    c.SignComplaint: ({"dispatched"}, "sign for"),
    c.ReturnComplaint: ({"dispatched", "in_progress"}, "return"),
    c.RequestExtension: ({"in_progress"}, "request an extension for"),
    c.ApproveExtension: ({"in_progress"}, "approve an extension for"),
    c.RefuseExtension: ({"in_progress"}, "refuse an extension for"),
    c.ReplyComplaint: ({"in_progress"}, "reply to"),
    c.GiveFeedback: ({"replied"}, "give feedback on"),
    c.RateComplaint: ({"fed_back"}, "rate"),
    c.CloseComplaint: ({"replied", "fed_back", "reopened", "returned"}, "close"),
    c.UrgeComplaint: ({"dispatched", "in_progress", "returned"}, "urge"),
    c.EscalateComplaint: (
        {"received", "accepted", "dispatched", "returned", "in_progress"}
        | {"replied", "fed_back", "reopened"},
        "escalate",
    ),
    c.HandOverComplaint: (
        {"accepted", "dispatched", "returned", "in_progress", "replied"}
        | {"fed_back", "reopened", "closed"},
        "hand over",
    ),
    c.MarkOverdue: ({"in_progress"}, "mark overdue"),
    c.RemindDeadline: ({"in_progress"}, "remind of the deadline of"),
}


def decide(state: Complaint, cmd, now: datetime, calendar) -> list[NewEvent]:
    if isinstance(cmd, c.ReceiveComplaint):
        if state.status is not None:
            raise IllegalTransition(f"complaint {state.id} exists; cannot receive it")
        trace, reason = _forwarded(cmd)
        data = {**_received(cmd), **trace}
        received = _event("ComplaintReceived", cmd, now, data, reason)
        return [replace(received, schema_version=RECEIVED_VERSION)]
    if state.status is None:
        raise IllegalTransition("no such complaint")
    statuses, verb = ALLOWED[type(cmd)]
    if state.status not in statuses:
        raise IllegalTransition(
            f"complaint {state.id} is {state.status}; cannot {verb}"
        )
    return RULES[type(cmd)](state, cmd, now, calendar)


def _event(type_, cmd, now, data=None, reason=None) -> NewEvent:
    return NewEvent(
        type=type_, data=data or {}, actor=str(cmd.by), reason=reason, occurred_at=now
    )


# Schema 2: the complainant encrypted. Schema 1 held the identity in plain text
# (contracts/complaints.py upcasts it, dropping the identity).
RECEIVED_VERSION = 2


def _received(cmd: c.ReceiveComplaint) -> dict:
    location = {k: _text(cmd.location.get(k)) for k in ("address", "lat", "long")}
    encrypted = cmd.complainant or {}
    return {
        "complaint_id": cmd.id,
        "channel": cmd.channel,
        "kind": cmd.kind,
        "category": cmd.category,
        "urgent": cmd.urgent,
        "title": cmd.title,
        "description": cmd.description,
        "unit_complained": cmd.unit_complained,
        "persons": list(cmd.persons),
        "location": location,  # coordinates as decimal text: the log hashes no floats
        "attachments": list(cmd.attachments),
        "anonymous": cmd.complainant is None,
        # Encrypted (services/complaints/pii.py): the reference, the ciphertext
        # and which fields were given; never the identity. Internal only.
        "complainant_ref": encrypted.get("ref"),
        "complainant_ciphertext": encrypted.get("ciphertext"),
        "complainant_given": list(encrypted.get("given", ())),
        "query_code_hash": cmd.query_code_hash,
    }


def _forwarded(cmd: c.ReceiveComplaint) -> tuple[dict, str | None]:
    """A sealed complaint's trace (sealed.py): who received it is in the data
    (internal: no public schema names it), why it is here is the reason."""
    if cmd.forwarded_from is None:
        return {}, None
    reason = (
        f"received in {cmd.forwarded_from['district']}, about a principal leader"
        " of it: sealed, recorded at the level above"
    )
    return {"forwarded_from": cmd.forwarded_from}, reason


def _text(value):
    return None if value is None else str(value)


def _own_unit(state: Complaint, by: c.Actor, verb: str) -> None:
    if by.role == "unit_handler" and by.unit != state.handling_unit:
        raise NotYourUnit(
            f"complaint {state.id} is with unit {state.handling_unit}, "
            f"not {by.unit}; cannot {verb} it"
        )


def _accept(state, cmd, now, cal):
    return [_event("ComplaintAccepted", cmd, now, {}, cmd.note)]


def _reject(state, cmd, now, cal):
    return [_event("ComplaintRejected", cmd, now, {}, cmd.reason)]


def _merge(state, cmd, now, cal):
    if cmd.into == state.id:
        raise IllegalTransition(f"complaint {state.id} cannot be merged into itself")
    return [_event("ComplaintMerged", cmd, now, {"into": cmd.into}, cmd.reason)]


def _dispatch(state, cmd, now, cal):
    limit = {"days": cmd.limit.days, "working": cmd.limit.working}
    data = {"unit": cmd.unit, "unit_name": cmd.unit_name, "time_limit": limit}
    return [_event("ComplaintDispatched", cmd, now, data, cmd.note)]


def _sign(state, cmd, now, cal):
    _own_unit(state, cmd.by, "sign for")
    start, extra = state.clock_started_at or now, state.extra_days
    if state.paused_at is not None:  # the days spent resolving a return don't count
        extra += count_days(
            cal,
            state.paused_at.astimezone(TZ).date(),
            now.astimezone(TZ).date(),
            state.limit.working,
        )
    due = due_at(cal, start, state.limit, extra)
    data = {
        "unit": state.handling_unit,
        "clock_started_at": start.isoformat(),
        "extra_days": extra,
        "due_at": due.isoformat(),
        "remind_at": reminder_at(cal, due).isoformat(),
    }
    return [_event("ComplaintSigned", cmd, now, data)]


def _return(state, cmd, now, cal):
    _own_unit(state, cmd.by, "return")
    data = {"unit": state.handling_unit, "clock_paused": state.due_at is not None}
    return [_event("ComplaintReturned", cmd, now, data, cmd.reason)]


def _request_extension(state, cmd, now, cal):
    _own_unit(state, cmd.by, "request an extension for")
    if state.pending_extension is not None:
        raise IllegalTransition(
            f"complaint {state.id} already has an extension request pending"
        )
    data = {"days": cmd.days, "working": state.limit.working}
    return [_event("ComplaintExtensionRequested", cmd, now, data, cmd.reason)]


def _needs_request(state, verb):
    if state.pending_extension is None:
        raise IllegalTransition(
            f"complaint {state.id} has no extension request pending; cannot {verb}"
        )


def _approve_extension(state, cmd, now, cal):
    _needs_request(state, "approve one")
    extra = state.extra_days + state.pending_extension
    due = due_at(cal, state.clock_started_at, state.limit, extra)
    data = {
        "days": state.pending_extension,
        "extra_days": extra,
        "due_at": due.isoformat(),
        "remind_at": reminder_at(cal, due).isoformat(),
    }
    return [_event("ComplaintExtensionApproved", cmd, now, data, cmd.reason)]


def _refuse_extension(state, cmd, now, cal):
    _needs_request(state, "refuse one")
    return [_event("ComplaintExtensionRefused", cmd, now, {}, cmd.reason)]


def _reply(state, cmd, now, cal):
    _own_unit(state, cmd.by, "reply to")
    data = {"result": cmd.result, "substantiated": cmd.substantiated}
    data["unit"] = state.handling_unit
    data["on_time"] = state.due_at is None or now <= state.due_at
    return [_event("ComplaintReplied", cmd, now, data)]


def _feedback(state, cmd, now, cal):
    return [_event("ComplaintFeedbackGiven", cmd, now, {"text": cmd.text})]


def _rate(state, cmd, now, cal):
    if state.rating is not None:  # one follow-up rating per reply
        raise IllegalTransition(
            f"complaint {state.id} is {state.status} and already rated; cannot rate"
        )
    # The unit that replied is the one rated (assessment counts it against it).
    data = {"rating": cmd.rating, "comment": cmd.comment, "unit": state.handling_unit}
    rated = _event("ComplaintRated", cmd, now, data)
    if cmd.rating in ACCEPTING_RATINGS:
        return [rated]
    return [rated, _event("ComplaintReopened", cmd, now, {}, "dissatisfied rating")]


def _close(state, cmd, now, cal):
    if cmd.ruling:
        return [_event("ComplaintClosed", cmd, now, {"by_ruling": True}, cmd.ruling)]
    if state.status != "fed_back" or state.rating not in ACCEPTING_RATINGS:
        raise IllegalTransition(
            f"complaint {state.id} is {state.status} and not rated satisfied; "
            "cannot close it without a supervisor's ruling"
        )
    return [_event("ComplaintClosed", cmd, now, {"by_ruling": False})]


def _urge(state, cmd, now, cal):
    return [_event("ComplaintUrged", cmd, now, {"unit": state.handling_unit}, cmd.note)]


def _escalate(state, cmd, now, cal):
    data = {"unit": state.handling_unit}
    return [_event("ComplaintEscalated", cmd, now, data, cmd.reason)]


def _hand_over(state, cmd, now, cal):
    if cmd.campaign_id in state.handed_over_to:  # one issue per complaint and campaign
        raise IllegalTransition(
            f"complaint {state.id} was already handed over to campaign "
            f"{cmd.campaign_id}; cannot hand it over again"
        )
    data = {"campaign_id": cmd.campaign_id, "unit": cmd.unit, "problem": cmd.problem}
    return [_event("ComplaintHandedOver", cmd, now, data)]


def _overdue(state, cmd, now, cal):
    # Once per deadline the complaint was given: a return and a new signing keep the
    # deadline (the clock only paused), so they never make it overdue a second time;
    # an approved extension or a reopen gives a new deadline (overdue_for resets).
    if state.due_at is None or now <= state.due_at or state.overdue_for is not None:
        raise NotDue(f"complaint {state.id} is not newly overdue")
    data = {"unit": state.handling_unit, "due_at": state.due_at.isoformat()}
    return [_event("ComplaintOverdue", cmd, now, data, "time limit passed")]


def _remind(state, cmd, now, cal):
    due = state.due_at
    if due is None or state.reminded_for == due or now > due:
        raise NotDue(f"complaint {state.id} needs no reminder")
    if now < reminder_at(cal, due):
        raise NotDue(f"complaint {state.id} is not due for a reminder yet")
    data = {"unit": state.handling_unit, "due_at": due.isoformat()}
    return [_event("ComplaintDeadlineNear", cmd, now, data)]


RULES = {
    c.AcceptComplaint: _accept,
    c.RejectComplaint: _reject,
    c.MergeComplaint: _merge,
    c.DispatchComplaint: _dispatch,
    c.SignComplaint: _sign,
    c.ReturnComplaint: _return,
    c.RequestExtension: _request_extension,
    c.ApproveExtension: _approve_extension,
    c.RefuseExtension: _refuse_extension,
    c.ReplyComplaint: _reply,
    c.GiveFeedback: _feedback,
    c.RateComplaint: _rate,
    c.CloseComplaint: _close,
    c.UrgeComplaint: _urge,
    c.EscalateComplaint: _escalate,
    c.HandOverComplaint: _hand_over,
    c.MarkOverdue: _overdue,
    c.RemindDeadline: _remind,
}


def evolve(state: Complaint, event) -> Complaint:
    """The state after `event` (a NewEvent or RecordedEvent): no rules, just facts."""
    data, t = event.data, event.type
    if t == "ComplaintReceived":
        return Complaint(
            id=data["complaint_id"],
            status="received",
            kind=data["kind"],
            urgent=data["urgent"],
        )
    step = STEPS.get(t)
    return step(state, data, event) if step else state


def _when(text):
    return None if text is None else datetime.fromisoformat(text)


def _dispatched(s, d, e):
    limit = TimeLimit(d["time_limit"]["days"], d["time_limit"]["working"])
    if s.status == "reopened":  # a new round: a fresh clock and a fresh deadline
        s = replace(s, clock_started_at=None, extra_days=0, paused_at=None, due_at=None)
        s = replace(s, overdue_for=None, reminded_for=None, rating=None)
    return replace(s, status="dispatched", handling_unit=d["unit"], limit=limit)


def _signed(s, d, e):
    return replace(
        s,
        status="in_progress",
        clock_started_at=_when(d["clock_started_at"]),
        extra_days=d["extra_days"],
        paused_at=None,
        due_at=_when(d["due_at"]),
    )


def _returned(s, d, e):
    # A second return before the clock resumes keeps the first pause: the days the
    # complaint spent between units are never charged to the unit that signs.
    paused = (s.paused_at or e.occurred_at) if d["clock_paused"] else None
    return replace(s, status="returned", paused_at=paused, pending_extension=None)


def _extended(s, d, e):
    return replace(
        s,
        extra_days=d["extra_days"],
        due_at=_when(d["due_at"]),
        pending_extension=None,
        overdue_for=None,  # a new deadline, which may pass in its turn
        reminded_for=None,
    )


def _rated(s, d, e):
    return replace(s, rating=d["rating"])


def _status(status):
    return lambda s, d, e: replace(s, status=status, pending_extension=None)


STEPS = {
    "ComplaintAccepted": _status("accepted"),
    "ComplaintRejected": _status("rejected"),
    "ComplaintMerged": _status("merged"),
    "ComplaintDispatched": _dispatched,
    "ComplaintSigned": _signed,
    "ComplaintReturned": _returned,
    "ComplaintExtensionRequested": lambda s, d, e: replace(
        s, pending_extension=d["days"]
    ),
    "ComplaintExtensionApproved": _extended,
    "ComplaintExtensionRefused": lambda s, d, e: replace(s, pending_extension=None),
    "ComplaintReplied": _status("replied"),
    "ComplaintFeedbackGiven": _status("fed_back"),
    "ComplaintRated": _rated,
    "ComplaintReopened": _status("reopened"),
    "ComplaintClosed": _status("closed"),
    "ComplaintOverdue": lambda s, d, e: replace(s, overdue_for=_when(d["due_at"])),
    "ComplaintHandedOver": lambda s, d, e: replace(
        s, handed_over_to=s.handed_over_to | {d["campaign_id"]}
    ),
    "ComplaintDeadlineNear": lambda s, d, e: replace(
        s, reminded_for=_when(d["due_at"])
    ),
}


def fold(history) -> Complaint:
    return reduce(evolve, history, Complaint())
