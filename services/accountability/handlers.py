"""Command handlers of clues and cases: load, fold, decide, append, project.

The directory is read before a command is decided (units, people, leaders, the
district's settings) and handed to the pure domain; nothing here decides a rule.
"""

from dataclasses import replace

from contracts.accountability import CASE_ID, CLUE_ID
from contracts.complaints import COMPLAINT_ID
from contracts.issues import ISSUE_ID
from eventlog.handler import handle
from eventlog.ids import random_id
from eventlog.model import Actor
from eventlog.tenancy import district_scope
from services.directory import read as directory

from . import domain as d
from . import projections


class NotFound(d.DomainError):
    pass


class IdTaken(d.DomainError):
    pass


SYSTEM = Actor("accountability", "system")

# Events that raise a clue: type -> (kind, source type, condition on the data).
TRIGGERS = {
    "ComplaintOverdue": ("complaint_overdue", "complaint", lambda data: True),
    "IssueOverdue": ("issue_overdue", "issue", lambda data: True),
    "ComplaintReplied": (
        "complaint_substantiated",
        "complaint",
        lambda data: data.get("substantiated") is True,
    ),
}
SUMMARIES = {
    "complaint_overdue": "投诉 {id} 超过办理时限未办结（承办单位：{unit}）",
    "issue_overdue": "问题 {id} 超过整改时限未完成整改（责任单位：{unit}）",
    "complaint_substantiated": "投诉 {id} 经办理查实（承办单位：{unit}）",
}


def settings(conn, district) -> d.Settings:
    with district_scope(conn, district):
        found = directory.district(conn, district) or {}
    return d.Settings.of(found.get("accountability"))


def _unit(conn, district, code) -> dict:
    found = directory.unit_in(conn, district, code) if code else None
    if found is None:
        raise d.Invalid(f"no unit {code!r} in district {district}'s directory")
    return found


def _person(conn, district, person_id) -> dict:
    with district_scope(conn, district):
        found = directory.person(conn, person_id)
    if found is None:
        raise d.Invalid(f"no person {person_id!r} in district {district}'s directory")
    return found


def _exists(store, stream_id, district) -> bool:
    history = store.read_stream(stream_id, up_to_version=1)
    return bool(history) and history[0].district == district


# ---- clues ---------------------------------------------------------------------------


def register_clue(store, district, body, by: Actor, now) -> tuple[str, bool]:
    """A clue by hand: (its id, whether it is new). One about a complaint or an issue
    that has a clue already adds a ground to that clue."""
    _unit(store.conn, district, body["unit"])
    if body.get("subject"):
        _person(store.conn, district, body["subject"])
    source_type, source_id = _source(store, district, body)
    if source_id is not None:
        clue_id = d.clue_id_for(district, source_type, source_id)
    else:
        clue_id = random_id("CL", now)
    cmd = d.RegisterClue(
        id=clue_id,
        kind=body["kind"],
        unit=body["unit"],
        summary=body["summary"],
        source_type=source_type,
        source_id=source_id,
        subject=body.get("subject"),
        by=by,
    )
    recorded = _run_clue(
        store, district, clue_id, cmd, now, may_exist=source_id is not None
    )
    return clue_id, recorded[0].type == "ClueRegistered"


def _source(store, district, body) -> tuple[str, str | None]:
    complaint, issue = body.get("complaint_id"), body.get("issue_id")
    if complaint and issue:
        raise d.Invalid("a clue concerns one complaint or one issue, not both")
    for kind, given, pattern in (
        ("complaint", complaint, COMPLAINT_ID),
        ("issue", issue, ISSUE_ID),
    ):
        if given:
            if not (
                pattern.fullmatch(given) and _exists(store, f"{kind}-{given}", district)
            ):
                raise d.Invalid(f"no {kind} {given[:40]!r} in district {district}")
            return kind, given
    return ("inspection" if body["kind"] == "inspection_finding" else "manual"), None


def clue_from_event(store, envelope: dict, now) -> str | None:
    """An overdue complaint or issue, or a substantiated complaint, raises a clue on
    its source, in the source's correlation. None when the event raises none."""
    trigger = TRIGGERS.get(envelope["type"])
    data = envelope["data"] or {}
    if trigger is None or not trigger[2](data):
        return None
    kind, source_type, _ = trigger
    district = envelope["district"]
    source_id = envelope["stream_id"].split("-", 1)[1]
    clue_id = d.clue_id_for(district, source_type, source_id)
    cmd = d.RegisterClue(
        id=clue_id,
        kind=kind,
        unit=data.get("unit"),
        summary=SUMMARIES[kind].format(id=source_id, unit=data.get("unit") or "未定"),
        source_type=source_type,
        source_id=source_id,
        by=SYSTEM,
        trigger_event_id=envelope["event_id"],
    )
    links = {
        "correlation_id": envelope["correlation_id"],
        "causation_id": envelope["event_id"],
    }
    _run_clue(store, district, clue_id, cmd, now, may_exist=True, links=links)
    return clue_id


CLUE_ACTIONS = {"verify", "dismiss", "file"}


def act_on_clue(store, district, clue_id, action, body, by: Actor, now) -> str | None:
    """Returns the case id when the clue is filed."""
    if action == "verify":
        cmd = d.StartVerification(by=by, note=body.get("note"))
    elif action == "dismiss":
        cmd = d.DismissClue(reason=body["reason"], by=by)
    elif action == "file":
        return _file(store, district, clue_id, body, by, now)
    else:
        raise d.Invalid(f"no action {action!r} on clues")
    _run_clue(store, district, clue_id, cmd, now)
    return None


def _file(store, district, clue_id, body, by, now) -> str:
    """The clue filed and its case opened, in one transaction: never one alone."""
    if body.get("subject"):
        _person(store.conn, district, body["subject"])
    case_id = random_id("CA", now)
    cmd = d.FileClue(case_id, body["reason"], by, body.get("subject"))
    with store.transaction():
        filed = _run_clue(store, district, clue_id, cmd, now)
        clue = filed[0]
        opened = d.OpenCase(
            id=case_id,
            unit=_clue_unit(store, clue),
            subject=clue.data["subject"],
            subject_role="official",
            origin="clue",
            by=by,
            clue_id=clue_id,
            reason=body["reason"],
        )
        links = {
            "correlation_id": clue.correlation_id,
            "causation_id": str(clue.event_id),
        }
        _run_case(store, district, case_id, opened, now, links=links)
    return case_id


def _clue_unit(store, filed) -> str | None:
    registered = store.read_stream(filed.stream_id, up_to_version=1)[0]
    return registered.data["unit"]


AGGREGATES = {  # kind -> (the command that creates one, fold, decide)
    "clue": (d.RegisterClue, d.fold_clue, d.decide_clue),
    "case": (d.OpenCase, d.fold_case, d.decide_case),
}


def _run(store, kind, district, key, cmd, now, may_exist=False, links=None):
    """One command on a clue or case of `district`; another district's is not
    found. `may_exist`: the creating command may meet its stream (a clue's source
    raised again). The whole stream stays in the correlation it began in."""
    creates, fold_, decide_ = AGGREGATES[kind]
    creating = isinstance(cmd, creates)
    chained = dict(links or {})

    def fold(history):
        if history and history[0].district != district:
            raise NotFound(f"no {kind} {key} in district {district}")
        if history and creating and not may_exist:
            raise IdTaken(key)
        if not history and not creating:
            raise NotFound(f"no {kind} {key} in district {district}")
        if history:
            chained["correlation_id"] = history[0].correlation_id
        return fold_(history)

    return handle(
        store,
        f"{kind}-{key}",
        district,
        fold=fold,
        decide=lambda state: _linked(decide_(state, cmd, now), chained),
        project=projections.apply,
    )


def _run_clue(store, district, clue_id, cmd, now, may_exist=False, links=None):
    return _run(store, "clue", district, clue_id, cmd, now, may_exist, links)


def _run_case(store, district, case_id, cmd, now, links=None):
    return _run(store, "case", district, case_id, cmd, now, links=links)


# ---- cases ---------------------------------------------------------------------------

SIMPLE = {
    "record_findings": lambda by, b: d.RecordFindings(
        b["findings"], b["substantiated"], by
    ),
    "assess_exemption": lambda by, b: d.AssessExemption(
        b["outcome"], tuple(b["grounds"]), b["reasoning"], by
    ),
    "mark_reference": lambda by, b: d.MarkReference(by, b.get("note")),
    "appeal": lambda by, b: d.Appeal(b["grounds"], by),
    "decide_appeal": lambda by, b: d.DecideAppeal(
        b["outcome"], b["reasoning"], by, tuple(b.get("measures") or ())
    ),
    "close": lambda by, b: d.CloseCase(by, b.get("reason")),
}
CASE_ACTIONS = set(SIMPLE) | {"decide", "publish_bulletin", "notify_subject"}


def act_on_case(store, district, case_id, action, body, by: Actor, now) -> None:
    if action in SIMPLE:
        cmd = SIMPLE[action](by, body)
    elif action == "decide":
        return _decide(store, district, case_id, body, by, now)
    elif action == "publish_bulletin":
        cmd = _bulletin(store, district, case_id, body, by, now)
    elif action == "notify_subject":
        cmd = d.NotifySubject(by, body.get("note"), settings(store.conn, district))
    else:
        raise d.Invalid(f"no action {action!r} on cases")
    _run_case(store, district, case_id, cmd, now)


def _decide(store, district, case_id, body, by, now) -> None:
    """The decision, and for a serious one the linked cases on the unit's two
    leaders (一案双查), in one transaction."""
    case = _case_state(store, district, case_id)
    leaders = directory_leaders(store.conn, district, case.unit)
    cmd = d.Decide(
        measures=tuple(body["measures"]),
        reasoning=body["reasoning"],
        by=by,
        collective_decision=body.get("collective_decision", False),
        settings=settings(store.conn, district),
        leaders=tuple(leaders.items()),
    )
    with store.transaction():
        recorded = _run_case(store, district, case_id, cmd, now)
        decided = recorded[0]
        for link in recorded[1:]:
            role = link.data["relation"]
            opened = d.OpenCase(
                id=link.data["case_id"],
                unit=case.unit,
                subject=leaders[role],
                subject_role=role,
                origin="dual_investigation",
                by=by,
                clue_id=None,
                linked_from=case_id,
                reason="一案双查：" + ", ".join(decided.data["measures"]),
            )
            links = {
                "correlation_id": decided.correlation_id,
                "causation_id": str(link.event_id),
            }
            _run_case(store, district, opened.id, opened, now, links=links)


def directory_leaders(conn, district, unit) -> dict[str, str | None]:
    if unit is None:
        return dict.fromkeys(d.DUAL_ROLES)
    found = directory.unit_in(conn, district, unit) or {}
    return {role: found.get(role) for role in d.DUAL_ROLES}


def _bulletin(store, district, case_id, body, by, now) -> d.PublishBulletin:
    case = _case_state(store, district, case_id)
    unit = directory.unit_in(store.conn, district, case.unit) if case.unit else None
    person = None
    if case.subject:
        with district_scope(store.conn, district):
            person = directory.person(store.conn, case.subject)
    return d.PublishBulletin(
        bulletin_id=random_id("BL", now),
        title=body["title"],
        body=body["body"],
        by=by,
        unit_name=unit["name"] if unit else None,
        subject_name=person["name"] if person else None,
    )


def _case_state(store, district, case_id) -> d.Case:
    history = store.read_stream(f"case-{case_id}")
    if not history or history[0].district != district:
        raise NotFound(f"no case {case_id} in district {district}")
    return d.fold_case(history)


def _linked(events, links):
    """Events in the correlation (and caused by the event) they came from."""
    if not links:
        return events
    return [replace(e, **links) for e in events]


def checked(kind: str, value: str) -> str:
    pattern = {"clue": CLUE_ID, "case": CASE_ID}[kind]
    if not pattern.fullmatch(value):
        raise NotFound(f"no {kind} {value[:40]!r}")
    return value
