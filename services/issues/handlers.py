"""Command handlers of campaigns and issues: load, fold, decide, append, project."""

import hashlib
from dataclasses import replace

from eventlog.handler import handle
from eventlog.ids import random_id
from eventlog.tenancy import all_districts, district_scope
from services.directory import read as directory

from . import domain as d
from . import projections


class NotFound(d.DomainError):
    pass


class IdTaken(d.DomainError):
    pass


def _exists_in(store, stream_id, district) -> bool:
    history = store.read_stream(stream_id, up_to_version=1)
    if history and history[0].district != district:
        # Word for word what register says of an id that exists nowhere: another
        # district's campaign must not be told apart from none.
        category, _, id_ = stream_id.partition("-")
        raise NotFound(f"no {category} {id_} in district {district}")
    return bool(history)


def launch_campaign(store, district, body, by: d.Actor, now) -> str:
    cmd = d.LaunchCampaign(
        id=random_id("CP", now), name=body["name"], phases=tuple(body["phases"]), by=by
    )
    handle(
        store,
        f"campaign-{cmd.id}",
        district,
        fold=lambda history: bool(history),
        decide=lambda exists: d.decide_campaign(exists, cmd, now),
        project=projections.apply,
    )
    return cmd.id


def _unit(conn, district, code) -> None:
    if directory.unit_in(conn, district, code) is None:
        raise d.Invalid(f"no unit {code!r} in district {district}'s directory")


def register(store, district, body, by: d.Actor, now, calendar, **links) -> str:
    """A new issue; `links` carry correlation_id/causation_id for a handover."""
    unit = body.get("unit") or by.unit
    if by.role == "unit_handler" and unit != by.unit:
        raise d.NotYourUnit(f"a unit handler registers issues of unit {by.unit} only")
    if not unit:
        raise d.Invalid("name the unit the issue belongs to")
    for code in filter(None, (unit, body.get("suggested_unit"))):
        _unit(store.conn, district, code)
    if not _exists_in(store, f"campaign-{body['campaign_id']}", district):
        raise NotFound(f"no campaign {body['campaign_id']} in district {district}")
    issue_id = links.pop("issue_id", None) or random_id("I", now)
    cmd = d.RegisterIssue(
        id=issue_id,
        campaign_id=body["campaign_id"],
        unit=unit,
        list=body["list"],
        source=body.get("source", "self_inspection"),
        manifestation=body["manifestation"],
        responsible=body.get("responsible"),
        supervisor=body.get("supervisor"),
        suggested_unit=body.get("suggested_unit"),
        complaint_id=body.get("complaint_id"),
        by=by,
    )
    _run(store, district, issue_id, cmd, now, calendar, **links)
    return issue_id


def handed_over(store, envelope: dict, now, calendar) -> str | None:
    """A complaint handed over as a systemic problem becomes a problem-list issue of
    the named unit, in the complaint's correlation: its history links back. The id
    comes from the event's, so a redelivered message finds the issue there."""
    data, district = envelope["data"], envelope["district"]
    issue_id = "I-H-" + hashlib.sha256(envelope["event_id"].encode()).hexdigest()[:12]
    if _exists_in(store, f"issue-{issue_id}", district):
        return None
    body = {
        "campaign_id": data["campaign_id"],
        "unit": data["unit"],
        "list": "problem",
        "source": "complaint",
        "manifestation": data["problem"],
        "complaint_id": envelope["stream_id"].split("-", 1)[1],
    }
    return register(
        store,
        district,
        body,
        _actor(envelope["actor"]),
        now,
        calendar,
        issue_id=issue_id,
        correlation_id=envelope["correlation_id"],
        causation_id=envelope["event_id"],
    )


def _actor(text: str) -> d.Actor:
    """The handing-over supervisor stays the actor of the issue's registration."""
    role, _, who = text.partition(":")
    return d.Actor(who or role, role if who else "system")


ACTIONS = {
    "answer": d.AnswerSuggestion,
    "set_measures": d.SetMeasures,
    "report_progress": d.ReportProgress,
    "submit": lambda by, evidence, note=None: d.Submit(tuple(evidence), by, note),
    "send_back": d.SendBack,
    "close": d.VerifyAndClose,
}


def execute(store, district, issue_id, action, body, by, now, calendar):
    if action not in ACTIONS:
        raise d.Invalid(f"no action {action!r} on issues")
    return _run(
        store, district, issue_id, ACTIONS[action](by=by, **body), now, calendar
    )


def _run(store, district, issue_id, cmd, now, calendar, **links):
    def fold(history):
        if history and history[0].district != district:
            raise NotFound(f"no issue {issue_id} in district {district}")
        if history and isinstance(cmd, d.RegisterIssue):
            raise IdTaken(issue_id)
        if not history and not isinstance(cmd, d.RegisterIssue):
            raise NotFound(f"no issue {issue_id} in district {district}")
        return d.fold(history)

    def decide(state):
        events = d.decide(state, cmd, now, calendar)
        # A handed-over complaint's issue stays in the complaint's correlation.
        return [replace(e, **links) for e in events] if links else events

    return handle(
        store,
        f"issue-{issue_id}",
        district,
        fold=fold,
        decide=decide,
        project=projections.apply,
    )


def sweep(store, now, calendar, log=None) -> int:
    """Mark newly overdue issues; exactly once per deadline with any number of
    sweepers (see services/complaints/handlers.sweep)."""
    marked = 0
    with all_districts(store.conn):  # the one cross-district read
        rows = store.conn.execute(
            "SELECT issue_id, district FROM issues.timers"
            " WHERE NOT overdue_marked AND due_at < %s",
            (now,),
        ).fetchall()
    for issue_id, district in rows:
        try:
            _run(store, district, issue_id, d.MarkOverdue(), now, calendar)
            marked += 1
        except (d.NotDue, d.IllegalTransition):
            with district_scope(store.conn, district):
                store.conn.execute(
                    "UPDATE issues.timers SET overdue_marked = true"
                    " WHERE issue_id = %s",
                    (issue_id,),
                )
        except Exception as exc:  # one bad issue must not stop the sweep
            if log is not None:
                log.error("issue sweep failed", issue_id=issue_id, error=str(exc))
    return marked
