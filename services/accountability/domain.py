"""Clues and cases (追责问责): state, `decide`, `evolve`. Pure.

    clue:  registered -> verifying (初核) -> dismissed | filed (a case opens)
           the same source raised again adds a ground to its clue, never a second clue
    case:  investigating -> investigated (findings)
           investigated -> exempted (容错免责: exempt) | decided (measures; mitigated
               when the exemption assessment said so) | closed (not substantiated)
           decided -> notified (the subject served, with the appeal deadline)
           notified -> appealed (申诉, by the deadline) -> appeal_decided
           notified (deadline passed) | appeal_decided | exempted -> closed

A decision whose most severe measure reaches the district's dual-investigation
severity opens linked cases on the unit's main leader and the leader in charge
(一案双查); the handler opens them, `decide` names them. A collective decision is
recorded with the decision and exempts nobody. Anything asked in the wrong state raises
IllegalTransition naming both.
"""

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import reduce

from contracts.accountability import (
    CLUE_KINDS,
    MANDATORY_KINDS,
    MEASURES,
    SEVERITY,
)
from eventlog.deadlines import TZ
from eventlog.model import Actor, NewEvent

DUAL_ROLES = ("main_leader", "leader_in_charge")


class DomainError(Exception):
    pass


class IllegalTransition(DomainError):
    pass


class Invalid(DomainError):
    pass


@dataclass(frozen=True)
class Settings:
    """A district's accountability settings (its directory file, `accountability:`)."""

    dual_investigation_from: str = "admonishment_talk"
    appeal_days: int = 30  # natural days from the day the subject is served

    @classmethod
    def of(cls, raw: dict | None) -> "Settings":
        raw = raw or {}
        return cls(
            raw.get("dual_investigation_from", cls.dual_investigation_from),
            int(raw.get("appeal_days", cls.appeal_days)),
        )


def clue_id_for(district: str, source_type: str, source_id: str) -> str:
    """One clue per source: the id is derived from it, so a second trigger (or a
    redelivered event) finds the clue there."""
    key = f"{district}:{source_type}:{source_id}".encode()
    return "CL-S-" + hashlib.sha256(key).hexdigest()[:16]


def dual_case_id(case_id: str, role: str) -> str:
    return "CA-D-" + hashlib.sha256(f"{case_id}:{role}".encode()).hexdigest()[:16]


# ---- clues ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterClue:
    id: str
    kind: str
    unit: str | None
    summary: str
    source_type: str  # complaint | issue | inspection | manual
    source_id: str | None
    by: Actor
    subject: str | None = None
    trigger_event_id: str | None = None


@dataclass(frozen=True)
class StartVerification:
    by: Actor
    note: str | None = None


@dataclass(frozen=True)
class DismissClue:
    reason: str
    by: Actor


@dataclass(frozen=True)
class FileClue:
    case_id: str
    reason: str
    by: Actor
    subject: str | None = None


@dataclass(frozen=True)
class Clue:
    id: str | None = None
    status: str | None = None
    kind: str | None = None
    unit: str | None = None
    subject: str | None = None
    triggers: frozenset[str] = frozenset()  # event ids already taken as grounds
    case_id: str | None = None


def decide_clue(state: Clue, cmd, now: datetime) -> list[NewEvent]:
    if isinstance(cmd, RegisterClue):
        return _register_clue(state, cmd, now)
    statuses, verb = CLUE_ALLOWED[type(cmd)]
    if state.status not in statuses:
        raise IllegalTransition(f"clue {state.id} is {state.status}; cannot {verb}")
    if isinstance(cmd, StartVerification):
        return [_event("ClueVerificationStarted", cmd, now, {}, cmd.note)]
    if isinstance(cmd, DismissClue):
        return [_event("ClueDismissed", cmd, now, {}, cmd.reason)]
    data = {"case_id": cmd.case_id, "subject": cmd.subject or state.subject}
    return [_event("ClueFiled", cmd, now, data, cmd.reason)]


CLUE_ALLOWED = {
    StartVerification: ({"registered"}, "start its verification"),
    DismissClue: ({"verifying"}, "dismiss it (verify it first)"),
    FileClue: ({"verifying"}, "file it (verify it first)"),
}


def _register_clue(state: Clue, cmd: RegisterClue, now) -> list[NewEvent]:
    if cmd.kind not in CLUE_KINDS:
        raise Invalid(f"no clue kind {cmd.kind!r}")
    if state.status is not None:
        if cmd.trigger_event_id is not None and cmd.trigger_event_id in state.triggers:
            return []  # the same event again: it is a ground already
        data = {"kind": cmd.kind, "trigger_event_id": cmd.trigger_event_id}
        return [_event("ClueGroundAdded", cmd, now, data, cmd.summary)]
    data = {
        "clue_id": cmd.id,
        "kind": cmd.kind,
        "mandatory": cmd.kind in MANDATORY_KINDS,
        "unit": cmd.unit,
        "subject": cmd.subject,
        "summary": cmd.summary,
        "source": {"type": cmd.source_type, "id": cmd.source_id},
        "trigger_event_id": cmd.trigger_event_id,
    }
    return [_event("ClueRegistered", cmd, now, data)]


def evolve_clue(state: Clue, event) -> Clue:
    d, t = event.data, event.type
    if t == "ClueRegistered":
        return Clue(
            id=d["clue_id"],
            status="registered",
            kind=d["kind"],
            unit=d["unit"],
            subject=d["subject"],
            triggers=frozenset(filter(None, [d["trigger_event_id"]])),
        )
    if t == "ClueGroundAdded" and d["trigger_event_id"]:
        return replace(state, triggers=state.triggers | {d["trigger_event_id"]})
    if t == "ClueVerificationStarted":
        return replace(state, status="verifying")
    if t == "ClueDismissed":
        return replace(state, status="dismissed")
    if t == "ClueFiled":
        return replace(state, status="filed", case_id=d["case_id"])
    return state


def fold_clue(history) -> Clue:
    return reduce(evolve_clue, history, Clue())


# ---- cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenCase:
    id: str
    unit: str | None
    subject: str | None
    subject_role: str  # official | main_leader | leader_in_charge
    origin: str  # clue | dual_investigation
    by: Actor
    clue_id: str | None = None
    linked_from: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RecordFindings:
    findings: str
    substantiated: bool
    by: Actor


@dataclass(frozen=True)
class AssessExemption:
    outcome: str  # exempt | mitigate | refused
    grounds: tuple[str, ...]
    reasoning: str
    by: Actor


@dataclass(frozen=True)
class Decide:
    measures: tuple[str, ...]
    reasoning: str
    by: Actor
    collective_decision: bool = False
    settings: Settings = Settings()
    # {"main_leader": person id or None, "leader_in_charge": ...} of the case's unit,
    # from the directory: whom a dual investigation would open cases on.
    leaders: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class MarkReference:
    by: Actor
    note: str | None = None


@dataclass(frozen=True)
class PublishBulletin:
    bulletin_id: str
    title: str
    body: str
    by: Actor
    unit_name: str | None = None
    subject_name: str | None = None


@dataclass(frozen=True)
class NotifySubject:
    by: Actor
    note: str | None = None
    settings: Settings = Settings()


@dataclass(frozen=True)
class Appeal:
    grounds: str
    by: Actor


@dataclass(frozen=True)
class DecideAppeal:
    outcome: str  # refused | changed | revoked
    reasoning: str
    by: Actor
    measures: tuple[str, ...] = ()


@dataclass(frozen=True)
class CloseCase:
    by: Actor
    reason: str | None = None


@dataclass(frozen=True)
class Case:
    id: str | None = None
    status: str | None = None
    unit: str | None = None
    subject: str | None = None
    subject_role: str = "official"
    substantiated: bool | None = None
    exemption: str | None = None  # the assessment's outcome, once assessed
    measures: tuple[str, ...] = ()
    appeal_until: date | None = None
    appeal_outcome: str | None = None
    bulletin_id: str | None = None
    reference: bool = False
    links: frozenset[str] = frozenset()


CASE_ALLOWED = {
    RecordFindings: ({"investigating"}, "record findings"),
    AssessExemption: ({"investigated"}, "assess an exemption"),
    Decide: ({"investigated"}, "decide"),
    MarkReference: ({"exempted", "closed"}, "mark it a reference case"),
    PublishBulletin: (
        {"decided", "notified", "appealed", "appeal_decided", "closed"},
        "publish a bulletin",
    ),
    NotifySubject: ({"decided"}, "notify the subject"),
    Appeal: ({"notified"}, "appeal"),
    DecideAppeal: ({"appealed"}, "decide an appeal"),
    CloseCase: ({"investigated", "exempted", "notified", "appeal_decided"}, "close it"),
}


def decide_case(state: Case, cmd, now: datetime) -> list[NewEvent]:
    if isinstance(cmd, OpenCase):
        if state.status is not None:
            raise IllegalTransition(f"case {cmd.id} exists; cannot open it again")
        return [_event("CaseOpened", cmd, now, _opened(cmd), cmd.reason)]
    statuses, verb = CASE_ALLOWED[type(cmd)]
    if state.status not in statuses:
        raise IllegalTransition(f"case {state.id} is {state.status}; cannot {verb}")
    return CASE_RULES[type(cmd)](state, cmd, now)


def _opened(cmd: OpenCase) -> dict:
    return {
        "case_id": cmd.id,
        "unit": cmd.unit,
        "subject": cmd.subject,
        "subject_role": cmd.subject_role,
        "origin": cmd.origin,
        "clue_id": cmd.clue_id,
        "linked_from": cmd.linked_from,
    }


def _findings(state, cmd, now):
    data = {"findings": cmd.findings, "substantiated": cmd.substantiated}
    return [_event("CaseFindingsRecorded", cmd, now, data)]


def _exemption(state, cmd, now):
    if not state.substantiated:
        raise IllegalTransition(
            f"case {state.id}: the findings did not substantiate misconduct; "
            "there is nothing to exempt"
        )
    if state.exemption is not None:
        raise IllegalTransition(
            f"case {state.id}: an exemption was assessed already ({state.exemption})"
        )
    grounds = tuple(dict.fromkeys(cmd.grounds))
    if cmd.outcome in ("exempt", "mitigate"):
        if "no_personal_gain" not in grounds:
            raise Invalid(
                "exemption or mitigation needs the ground no_personal_gain: "
                "whoever sought personal gain is not exempted (容错不容私)"
            )
        if len(grounds) < 2:
            raise Invalid(
                "exemption or mitigation needs a ground besides no_personal_gain: "
                "superior policy, diligence, a reform or pilot, or losses retrieved"
            )
    data = {"outcome": cmd.outcome, "grounds": list(grounds)}
    data["reasoning"] = cmd.reasoning
    return [_event("CaseExemptionAssessed", cmd, now, data)]


def _ordered(measures) -> list[str]:
    unknown = sorted(set(measures) - set(MEASURES))
    if unknown:
        raise Invalid(
            f"no measure {', '.join(unknown)}; measures: {', '.join(MEASURES)}"
        )
    return sorted(dict.fromkeys(measures), key=SEVERITY.__getitem__)


def _decide(state, cmd: Decide, now):
    if not state.substantiated:
        raise IllegalTransition(
            f"case {state.id}: the findings did not substantiate misconduct; "
            "close it instead of deciding measures"
        )
    if not cmd.measures:
        raise Invalid("a decision takes one or more measures")
    measures = _ordered(cmd.measures)
    severity = SEVERITY[measures[-1]]
    data = {
        "case_id": state.id,
        "unit": state.unit,
        "subject": state.subject,
        "subject_role": state.subject_role,
        "measures": measures,
        "severity": severity,
        # Recorded, and exempts nobody: it changes nothing below.
        "collective_decision": cmd.collective_decision,
        "mitigated": state.exemption == "mitigate",
        "reasoning": cmd.reasoning,
    }
    events = [_event("CaseDecided", cmd, now, data)]
    threshold = SEVERITY[cmd.settings.dual_investigation_from]
    # A case on a leader opened by dual investigation does not open more of them.
    if severity >= threshold and state.subject_role == "official":
        for role, person in cmd.leaders:
            if person is None or person == state.subject:
                continue
            link = {"case_id": dual_case_id(state.id, role), "relation": role}
            events.append(_event("CaseLinked", cmd, now, link, "一案双查"))
    return events


def _reference(state, cmd, now):
    if state.exemption != "exempt":
        raise IllegalTransition(
            f"case {state.id} was not exempted; only exempted cases are reference cases"
        )
    if state.reference:
        raise IllegalTransition(f"case {state.id} is a reference case already")
    return [_event("CaseMarkedReference", cmd, now, {}, cmd.note)]


def _bulletin(state, cmd: PublishBulletin, now):
    if state.bulletin_id is not None:
        raise IllegalTransition(
            f"case {state.id} was published in bulletin {state.bulletin_id} already"
        )
    if not state.measures:
        raise IllegalTransition(f"case {state.id}: its decision was revoked")
    data = {
        "case_id": state.id,
        "bulletin_id": cmd.bulletin_id,
        "title": cmd.title,
        "body": cmd.body,
        "unit": state.unit,
        "unit_name": cmd.unit_name,
        "subject_name": cmd.subject_name,
        "measures": list(state.measures),
        "published_on": now.astimezone(TZ).date().isoformat(),
    }
    return [_event("CaseBulletinPublished", cmd, now, data)]


def _notify(state, cmd: NotifySubject, now):
    served = now.astimezone(TZ).date()
    until = served + timedelta(days=cmd.settings.appeal_days)
    data = {"subject": state.subject, "appeal_until": until.isoformat()}
    return [_event("CaseSubjectNotified", cmd, now, data, cmd.note)]


def _appeal(state, cmd, now):
    if now.astimezone(TZ).date() > state.appeal_until:
        raise IllegalTransition(
            f"case {state.id}: the appeal period ended on {state.appeal_until}"
        )
    return [_event("CaseAppealed", cmd, now, {"grounds": cmd.grounds})]


def _decide_appeal(state, cmd: DecideAppeal, now):
    if (cmd.outcome == "changed") != bool(cmd.measures):
        raise Invalid("a changed decision names its new measures, and only it does")
    if cmd.outcome == "changed":
        measures = _ordered(cmd.measures)
    else:
        measures = [] if cmd.outcome == "revoked" else list(state.measures)
    data = {"outcome": cmd.outcome, "measures": measures, "reasoning": cmd.reasoning}
    return [_event("CaseAppealDecided", cmd, now, data)]


def _close(state, cmd, now):
    if state.status == "investigated":
        if state.substantiated:
            raise IllegalTransition(
                f"case {state.id} is substantiated; decide or exempt it before closing"
            )
        outcome = "unsubstantiated"
    elif state.status == "exempted":
        outcome = "exempted"
    elif state.status == "notified":
        if now.astimezone(TZ).date() <= state.appeal_until:
            raise IllegalTransition(
                f"case {state.id}: the subject may appeal until {state.appeal_until}"
            )
        outcome = "decided"
    else:
        outcome = f"appeal_{state.appeal_outcome}"
    return [_event("CaseClosed", cmd, now, {"outcome": outcome}, cmd.reason)]


CASE_RULES = {
    RecordFindings: _findings,
    AssessExemption: _exemption,
    Decide: _decide,
    MarkReference: _reference,
    PublishBulletin: _bulletin,
    NotifySubject: _notify,
    Appeal: _appeal,
    DecideAppeal: _decide_appeal,
    CloseCase: _close,
}


def evolve_case(state: Case, event) -> Case:
    d, t = event.data, event.type
    if t == "CaseOpened":
        return Case(
            id=d["case_id"],
            status="investigating",
            unit=d["unit"],
            subject=d["subject"],
            subject_role=d["subject_role"],
        )
    if t == "CaseFindingsRecorded":
        return replace(state, status="investigated", substantiated=d["substantiated"])
    if t == "CaseExemptionAssessed":
        status = "exempted" if d["outcome"] == "exempt" else state.status
        return replace(state, status=status, exemption=d["outcome"])
    if t == "CaseDecided":
        return replace(state, status="decided", measures=tuple(d["measures"]))
    if t == "CaseLinked":
        return replace(state, links=state.links | {d["case_id"]})
    if t == "CaseMarkedReference":
        return replace(state, reference=True)
    if t == "CaseBulletinPublished":
        return replace(state, bulletin_id=d["bulletin_id"])
    if t == "CaseSubjectNotified":
        until = date.fromisoformat(d["appeal_until"])
        return replace(state, status="notified", appeal_until=until)
    if t == "CaseAppealed":
        return replace(state, status="appealed")
    if t == "CaseAppealDecided":
        return replace(
            state,
            status="appeal_decided",
            appeal_outcome=d["outcome"],
            measures=tuple(d["measures"]),
        )
    if t == "CaseClosed":
        return replace(state, status="closed")
    return state


def fold_case(history) -> Case:
    return reduce(evolve_case, history, Case())


def _event(type_, cmd, now, data, reason=None) -> NewEvent:
    return NewEvent(type_, data, actor=str(cmd.by), reason=reason, occurred_at=now)
