"""Command handlers: load, fold, decide, append, project. Dependencies are parameters.

Each takes the event store (over one connection), the district the caller acts in,
the time and the official calendar; nothing here knows nameko.
"""

import hashlib
from datetime import datetime

from eventlog.deadlines import limit_for, limits_from
from eventlog.handler import handle
from eventlog.ids import random_code, random_id
from eventlog.tenancy import all_districts, district_scope
from services.directory import read as directory

from . import blind, identity, projections, sealed
from . import commands as c
from .domain import DomainError, IllegalTransition, NotDue, decide, fold


class NotFound(DomainError):
    code = "not_found"


class Invalid(DomainError):
    code = "invalid"


class IdTaken(DomainError):
    """A new complaint drew the id of an existing one (one chance in about 10^12
    per pair): draw again."""


def new_id(now: datetime) -> str:
    return random_id("C", now)


def new_query_code() -> str:
    raw = random_code(12)
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def query_code_hash(code: str) -> str:
    """Codes are read aloud over the phone: case and dashes don't matter."""
    normal = code.upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(normal.encode()).hexdigest()


def stream(complaint_id: str) -> str:
    return f"complaint-{complaint_id}"


def receive(store, district, body: dict, by: c.Actor, now, calendar, keyring=None):
    """Register a complaint; returns {"id", "query_code"} (the code only if anonymous:
    it is shown once and kept only as a hash). A complaint about a principal leader
    of `district` is sealed (sealed.py): recorded at the level above, and the answer
    is `Seal.receipt`, which names neither it nor its id."""
    if body.get("unit_complained"):
        _unit(store.conn, district, body["unit_complained"])
    seal = _seal(store.conn, district, body)
    if seal is not None:
        # From here on `district` is where the complaint is recorded: everything
        # it leads to (keys, rows, events) is the level above's, none of it here.
        district, body = seal.to, {**body, "unit_complained": None}
    for _ in range(5):
        # `keyring` (pii.Keyring) encrypts the complainant's identity (identity.py),
        # under their key if the district knows them already (blind.py); without a
        # keyring, only anonymous complaints are taken.
        encrypted, keep = identity.seal(
            keyring, district, body.get("complainant"), store.conn
        )
        code = new_query_code() if encrypted is None else None
        cmd = _received(body, new_id(now), by, encrypted, code, seal)
        try:
            _run(store, district, cmd.id, cmd, now, calendar, _keeping(keep, now))
            return seal.receipt(code) if seal else {"id": cmd.id, "query_code": code}
        except (IdTaken, blind.Retry):
            continue  # another id, or the complainant's key again (blind.py)
    raise IdTaken("no free complaint id or complainant key after 5 draws")


def _received(body, complaint_id, by, encrypted, code, seal) -> c.ReceiveComplaint:
    return c.ReceiveComplaint(
        id=complaint_id,
        by=by,
        channel=body["channel"],
        kind=body.get("kind", "complaint"),
        category=body["category"],
        description=body["description"],
        urgent=body.get("urgent", False),
        title=body.get("title"),
        unit_complained=body.get("unit_complained"),
        persons=tuple(body.get("persons", ())),
        location=body.get("location") or {},
        attachments=tuple(body.get("attachments", ())),
        complainant=encrypted,
        query_code_hash=query_code_hash(code) if code else None,
        forwarded_from=seal.record() if seal else None,
    )


def _seal(conn, district, body) -> sealed.Seal | None:
    """The seal of a new complaint (sealed.py), its level above checked: a complaint
    about a principal leader is refused, never recorded in the district, when the
    directory names no level above it or one it does not hold."""
    with district_scope(conn, district):
        entry = directory.district(conn, district) or {}
        leaders = {
            pid: (directory.person(conn, pid) or {}).get("name")
            for pid in entry.get("principal_leaders") or ()
        }
    seal = sealed.seal(district, entry, leaders, body)
    if seal is None:
        return None
    above = seal.to
    if above is not None:
        with district_scope(conn, above):
            above = above if directory.district(conn, above) else None
    if above is None:
        raise Invalid(
            f"a complaint about a principal leader of {district} is recorded at "
            f"the level above, never in {district}, and the directory holds no "
            f"level above {district}: pass it to the level above directly"
        )
    return seal


def execute(store, district, complaint_id, action, body, by, now, calendar):
    """One command on an existing complaint, named by its HTTP action."""
    cmd = build(store.conn, district, complaint_id, action, body, by)
    if isinstance(cmd, c.MergeComplaint):
        _mergeable(store, district, cmd.into)
    if isinstance(cmd, c.HandOverComplaint):
        _unit(store.conn, district, cmd.unit)
        campaign = store.read_stream(f"campaign-{cmd.campaign_id}", up_to_version=1)
        if not campaign or campaign[0].district != district:
            raise NotFound(f"no campaign {cmd.campaign_id} in district {district}")
    return _run(store, district, complaint_id, cmd, now, calendar)


def _keeping(keep, now):
    """The projection of a new complaint that also keeps its complainant's data key
    and blind indexes, in the same transaction: no complaint without its key, no key
    without it."""
    if keep is None:
        return projections.apply

    def project(store, recorded):
        cid = projections.complaint_id(recorded[0].stream_id)
        identity.keep_key(store.conn, recorded[0].district, cid, keep, now)
        projections.apply(store, recorded)

    return project


def _run(store, district, complaint_id, cmd, now, calendar, project=None):
    def fold_(history):
        # The gateway scopes every request to its token's district; this holds
        # even if a caller did not: another district's complaint does not exist.
        if history and history[0].district != district:
            if isinstance(cmd, c.ReceiveComplaint):
                raise IdTaken(complaint_id)
            raise NotFound(f"no complaint {complaint_id} in district {district}")
        if history and isinstance(cmd, c.ReceiveComplaint):
            raise IdTaken(complaint_id)
        return fold(history)

    def decide_(state):
        if state.status is None and not isinstance(cmd, c.ReceiveComplaint):
            raise NotFound(f"no complaint {complaint_id} in district {district}")
        return decide(state, cmd, now, calendar)

    return handle(
        store,
        stream(complaint_id),
        district,
        fold=fold_,
        decide=decide_,
        project=project or projections.apply,
    )


SIMPLE = {
    "accept": c.AcceptComplaint,
    "reject": c.RejectComplaint,
    "merge": c.MergeComplaint,
    "sign": c.SignComplaint,
    "return": c.ReturnComplaint,
    "request_extension": c.RequestExtension,
    "approve_extension": c.ApproveExtension,
    "refuse_extension": c.RefuseExtension,
    "reply": c.ReplyComplaint,
    "feedback": c.GiveFeedback,
    "rate": c.RateComplaint,
    "close": c.CloseComplaint,
    "urge": c.UrgeComplaint,
    "escalate": c.EscalateComplaint,
    "hand_over": c.HandOverComplaint,
}


def build(conn, district, complaint_id, action, body, by):
    if action == "dispatch":
        return _dispatch(conn, district, complaint_id, body, by)
    if action not in SIMPLE:
        raise Invalid(f"no action {action!r} on complaints")
    return SIMPLE[action](by=by, **body)


def _dispatch(conn, district, complaint_id, body, by) -> c.DispatchComplaint:
    unit = _unit(conn, district, body["unit"])
    with district_scope(conn, district):
        row = conn.execute(
            "SELECT kind, urgent FROM complaints.complaints WHERE id = %s",
            (complaint_id,),
        ).fetchone()
        table = (directory.district(conn, district) or {}).get("time_limits")
    if row is None:
        raise NotFound(f"no complaint {complaint_id} in district {district}")
    kind, urgent = row
    return c.DispatchComplaint(
        unit=unit["code"],
        unit_name=unit["name"],
        limit=limit_for(limits_from(table), kind, urgent),
        by=by,
        note=body.get("note"),
    )


def _unit(conn, district, code) -> dict:
    unit = directory.unit_in(conn, district, code)
    if unit is None:
        raise Invalid(f"no unit {code!r} in district {district}'s directory")
    return unit


def _mergeable(store, district, into):
    history = store.read_stream(stream(into))
    target = fold(history)
    if target.status is None or history[0].district != district:
        raise NotFound(f"no complaint {into} in district {district} to merge into")
    if target.status in ("rejected", "merged"):
        raise IllegalTransition(
            f"complaint {into} is {target.status}; cannot merge into it"
        )


def sweep(store, now, calendar, log=None) -> dict:
    """Mark every newly overdue complaint, remind every one due tomorrow (in working
    days). Several instances may sweep at once: each complaint's decision is made
    on its stream, and the loser of a race decides again, finds it done (NotDue) and
    appends nothing. Exactly once per deadline, whatever the number of sweepers."""
    done = {"overdue": 0, "reminded": 0}
    # The one cross-district read (the timers' policy admits it with the marker
    # only); each complaint is then decided, and its timer ticked, in its district.
    with all_districts(store.conn):
        rows = store.conn.execute(
            "SELECT complaint_id, district, 'overdue' FROM complaints.timers"
            " WHERE NOT overdue_marked AND due_at < %(now)s"
            " UNION ALL SELECT complaint_id, district, 'reminded'"
            " FROM complaints.timers"
            " WHERE NOT reminded AND remind_at <= %(now)s AND due_at >= %(now)s",
            {"now": now},
        ).fetchall()
    for complaint_id, district, what in rows:
        cmd = c.MarkOverdue() if what == "overdue" else c.RemindDeadline()
        try:
            _run(store, district, complaint_id, cmd, now, calendar)
            done[what] += 1
        except (NotDue, IllegalTransition):
            # Another sweeper got there first, the complaint moved on, or this
            # deadline was already marked in an earlier round (a return and a new
            # signing keep it): tick the row, or every sweep would ask again.
            flag = "overdue_marked" if what == "overdue" else "reminded"
            with district_scope(store.conn, district):
                store.conn.execute(
                    f"UPDATE complaints.timers SET {flag} = true"
                    " WHERE complaint_id = %s",
                    (complaint_id,),
                )
        except Exception as exc:  # one bad complaint must not stop the sweep
            if log is not None:
                log.error("sweep failed", complaint_id=complaint_id, error=str(exc))
    return done
