"""Campaigns and rectification issues: state, `decide`, `evolve`. Pure.

    registered -> (suggestion: answered by the suggested unit) -> rectifying
        (measures set: with a deadline, or 立行立改 at once without one)
    rectifying -> progress reports -> submitted (evidence by reference)
    submitted -> closed (verified by the supervisor) | rectifying (sent back)

Overdue is marked once per deadline, by the timer. Anything asked in the wrong state
raises IllegalTransition naming both.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import reduce

from eventlog.deadlines import TZ, TimeLimit, due_at
from eventlog.model import Actor, NewEvent

PHASE_ORDER = ("mobilise", "self_inspect", "inspect_and_hold_accountable", "summarise")


class DomainError(Exception):
    pass


class IllegalTransition(DomainError):
    pass


class NotYourUnit(DomainError):
    pass


class NotDue(DomainError):
    pass


class Invalid(DomainError):
    pass


SYSTEM = Actor("timer", "system")


# ---- campaigns -----------------------------------------------------------------------


@dataclass(frozen=True)
class LaunchCampaign:
    id: str
    name: str
    phases: tuple[dict, ...]  # {"phase", "starts_on": date, "ends_on": date}
    by: Actor


def decide_campaign(exists: bool, cmd: LaunchCampaign, now) -> list[NewEvent]:
    if exists:
        raise IllegalTransition(f"campaign {cmd.id} exists; cannot launch it again")
    names = [p["phase"] for p in cmd.phases]
    if names != [n for n in PHASE_ORDER if n in names]:
        raise Invalid(f"phases must follow {' -> '.join(PHASE_ORDER)}, once each")
    for p, q in zip(cmd.phases, cmd.phases[1:], strict=False):
        if q["starts_on"] <= p["ends_on"]:
            raise Invalid(f"phase {q['phase']} starts before {p['phase']} ends")
    if any(p["ends_on"] < p["starts_on"] for p in cmd.phases):
        raise Invalid("a phase ends before it starts")
    phases = [
        {k: (v.isoformat() if isinstance(v, date) else v) for k, v in p.items()}
        for p in cmd.phases
    ]
    data = {"campaign_id": cmd.id, "name": cmd.name, "phases": phases}
    return [NewEvent("CampaignLaunched", data, actor=str(cmd.by), occurred_at=now)]


# ---- issues --------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterIssue:
    id: str
    campaign_id: str
    unit: str
    list: str
    source: str
    manifestation: str
    by: Actor
    responsible: str | None = None
    supervisor: str | None = None
    suggested_unit: str | None = None
    complaint_id: str | None = None


@dataclass(frozen=True)
class AnswerSuggestion:
    answer: str
    by: Actor


@dataclass(frozen=True)
class SetMeasures:
    measures: str
    by: Actor
    at_once: bool = False
    days: int | None = None  # working days from now
    deadline: date | None = None  # or a date (a rest day moves to the next workday)


@dataclass(frozen=True)
class ReportProgress:
    progress: str
    by: Actor


@dataclass(frozen=True)
class Submit:
    evidence: tuple[str, ...]
    by: Actor
    note: str | None = None


@dataclass(frozen=True)
class SendBack:
    reason: str
    by: Actor


@dataclass(frozen=True)
class VerifyAndClose:
    by: Actor
    note: str | None = None


@dataclass(frozen=True)
class MarkOverdue:
    by: Actor = SYSTEM


@dataclass(frozen=True)
class Issue:
    id: str | None = None
    status: str | None = None
    list: str = "problem"
    unit: str | None = None
    suggested_unit: str | None = None
    due_at: datetime | None = None
    overdue_for: datetime | None = None
    submitted_at: datetime | None = None
    evidence: tuple[str, ...] = field(default_factory=tuple)

    @property
    def acting_unit(self) -> str | None:
        """Who rectifies: the suggested unit for a suggestion, else the issue's."""
        return self.suggested_unit if self.list == "suggestion" else self.unit


ALLOWED = {
    AnswerSuggestion: ({"registered"}, "answer it"),
    SetMeasures: ({"registered", "answered"}, "set measures for it"),
    ReportProgress: ({"rectifying"}, "report progress on it"),
    Submit: ({"rectifying"}, "submit it for close-out"),
    SendBack: ({"submitted"}, "send it back"),
    VerifyAndClose: ({"submitted"}, "close it"),
    MarkOverdue: ({"rectifying"}, "mark it overdue"),
}


def decide(state: Issue, cmd, now: datetime, calendar) -> list[NewEvent]:
    if isinstance(cmd, RegisterIssue):
        if state.status is not None:
            raise IllegalTransition(f"issue {cmd.id} exists; cannot register it")
        return [_event("IssueRegistered", cmd, now, _registered(cmd))]
    statuses, verb = ALLOWED[type(cmd)]
    if state.status not in statuses:
        raise IllegalTransition(f"issue {state.id} is {state.status}; cannot {verb}")
    return RULES[type(cmd)](state, cmd, now, calendar)


def _event(type_, cmd, now, data, reason=None) -> NewEvent:
    return NewEvent(type_, data, actor=str(cmd.by), reason=reason, occurred_at=now)


def _registered(cmd: RegisterIssue) -> dict:
    if (cmd.list == "suggestion") != bool(cmd.suggested_unit):
        raise Invalid("a suggestion names the unit it is for, and only a suggestion")
    if cmd.suggested_unit == cmd.unit:
        raise Invalid("a suggestion is for another unit, not the suggesting one")
    if (cmd.source == "complaint") != bool(cmd.complaint_id):
        raise Invalid("an issue from a complaint names the complaint, and only it")
    return {
        "issue_id": cmd.id,
        "campaign_id": cmd.campaign_id,
        "unit": cmd.unit,
        "list": cmd.list,
        "source": cmd.source,
        "manifestation": cmd.manifestation,
        "responsible": cmd.responsible,
        "supervisor": cmd.supervisor,
        "suggested_unit": cmd.suggested_unit,
        "complaint_id": cmd.complaint_id,
    }


def _own_unit(state: Issue, by: Actor, verb: str) -> None:
    if by.role == "unit_handler" and by.unit != state.acting_unit:
        raise NotYourUnit(
            f"issue {state.id} is for unit {state.acting_unit}; cannot {verb} it"
        )


def _answer(state, cmd, now, cal):
    if state.list != "suggestion":
        raise IllegalTransition(f"issue {state.id} is not a suggestion; cannot answer")
    _own_unit(state, cmd.by, "answer")
    return [_event("IssueSuggestionAnswered", cmd, now, {"answer": cmd.answer})]


def _measures(state, cmd, now, cal):
    _own_unit(state, cmd.by, "set measures for")
    if state.list == "suggestion" and state.status != "answered":
        raise IllegalTransition(
            f"issue {state.id} is {state.status}: the suggested unit answers first"
        )
    given = [x for x in (cmd.at_once or None, cmd.days, cmd.deadline) if x]
    if len(given) != 1:
        raise Invalid("give exactly one of at_once, days or deadline")
    due = None
    if cmd.days:
        due = due_at(cal, now, TimeLimit(cmd.days, True))
    elif cmd.deadline:
        day = cmd.deadline
        if day <= now.astimezone(TZ).date():
            raise Invalid(f"the deadline {day} is not after today")
        while not cal.is_workday(day):  # a deadline on a rest day ends on the next
            day += timedelta(days=1)  # working day, as a time limit would
        due = datetime.combine(day, time.max, TZ)
    data = {
        "measures": cmd.measures,
        "at_once": cmd.at_once,
        "due_at": due.isoformat() if due else None,
    }
    return [_event("IssueMeasuresSet", cmd, now, data)]


def _progress(state, cmd, now, cal):
    _own_unit(state, cmd.by, "report progress on")
    return [_event("IssueProgressReported", cmd, now, {"progress": cmd.progress})]


def _submit(state, cmd, now, cal):
    _own_unit(state, cmd.by, "submit")
    data = {"evidence": list(cmd.evidence)}
    return [_event("IssueSubmitted", cmd, now, data, cmd.note)]


def _send_back(state, cmd, now, cal):
    return [_event("IssueSentBack", cmd, now, {}, cmd.reason)]


def _close(state, cmd, now, cal):
    # On time when the submission the supervisor accepts came in by the deadline:
    # the unit is not charged with the time its supervisor takes to verify.
    on_time = state.due_at is None or state.submitted_at <= state.due_at
    return [_event("IssueClosed", cmd, now, {"on_time": on_time}, cmd.note)]


def _overdue(state, cmd, now, cal):
    if state.due_at is None or now <= state.due_at or state.overdue_for is not None:
        raise NotDue(f"issue {state.id} is not newly overdue")
    data = {"unit": state.acting_unit, "due_at": state.due_at.isoformat()}
    return [_event("IssueOverdue", cmd, now, data, "deadline passed")]


RULES = {
    AnswerSuggestion: _answer,
    SetMeasures: _measures,
    ReportProgress: _progress,
    Submit: _submit,
    SendBack: _send_back,
    VerifyAndClose: _close,
    MarkOverdue: _overdue,
}


def evolve(state: Issue, event) -> Issue:
    d, t = event.data, event.type
    if t == "IssueRegistered":
        return Issue(
            id=d["issue_id"],
            status="registered",
            list=d["list"],
            unit=d["unit"],
            suggested_unit=d["suggested_unit"],
        )
    if t == "IssueSuggestionAnswered":
        return replace(state, status="answered")
    if t == "IssueMeasuresSet":
        due = datetime.fromisoformat(d["due_at"]) if d["due_at"] else None
        return replace(state, status="rectifying", due_at=due)
    if t == "IssueSubmitted":
        return replace(
            state,
            status="submitted",
            evidence=tuple(d["evidence"]),
            submitted_at=event.occurred_at,
        )
    if t == "IssueSentBack":
        return replace(state, status="rectifying")
    if t == "IssueClosed":
        return replace(state, status="closed")
    if t == "IssueOverdue":
        return replace(state, overdue_for=datetime.fromisoformat(d["due_at"]))
    return state


def fold(history) -> Issue:
    return reduce(evolve, history, Issue())
