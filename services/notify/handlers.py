"""Notify's handlers: queue what an event calls for; record settings and reads.

Every effect is an event: a notification is `notification-<id>` (Queued, then Sent,
Failed, Abandoned, Read), in the source event's correlation and caused by it, so a
complaint's or case's history shows who was told what and when.
"""

from eventlog.consumer import first_delivery
from eventlog.handler import handle
from eventlog.model import NewEvent
from eventlog.tenancy import district_scope

from . import plan, projections, rules, schedule, settings, templates

CONSUMER = "notify.people"
# Events whose unit notify keeps for later events of the stream that do not name it.
REMEMBERED = frozenset({"IssueRegistered", "ComplaintDispatched"})
SYSTEM = "system:notify"


class NotFound(Exception):
    pass


class Invalid(Exception):
    pass


def matching(conn, district: str, event_type: str) -> list[rules.Rule]:
    with district_scope(conn, district):
        return rules.for_event(event_type, settings.overrides(conn))


def queue(store, envelope: dict, now, contact, quiet) -> list[str]:
    """Queue the notifications `envelope` calls for, exactly once; their ids.

    `contact` is the complainant's (complaints.contact) or None; `quiet` the
    district's quiet hours. The tracking row (first_delivery) and every notification
    commit together: a redelivery finds the row and queues nothing, and the ids,
    derived from (event, recipient, channel), could not be queued twice anyway."""
    district, conn = envelope["district"], store.conn
    with store.transaction():
        conn.execute("SELECT set_config('liuhen.district', %s, true)", (district,))
        _remember_unit(conn, envelope)
        if not first_delivery(conn, CONSUMER, envelope["event_id"]):
            return []
        found = rules.for_event(envelope["type"], settings.overrides(conn))
        planned = plan.plan(conn, envelope, found, settings.office(conn), contact)
        for p in planned:
            _queue_one(store, envelope, p, now, quiet)
        return [p.id for p in planned]


def _remember_unit(conn, envelope) -> None:
    """The unit of an issue or complaint, for the events that do not name it."""
    if envelope["type"] in REMEMBERED:
        conn.execute(
            "INSERT INTO notify.units_of (stream_id, district, unit) VALUES"
            " (%s, %s, %s) ON CONFLICT (stream_id) DO UPDATE SET unit = excluded.unit",
            (envelope["stream_id"], envelope["district"], envelope["data"]["unit"]),
        )


def _queue_one(store, envelope, p: plan.Planned, now, quiet) -> None:
    data = {
        "notification_id": p.id,
        "kind": p.kind,
        "recipient": p.recipient,
        "channel": p.channel,
        "source_event_id": envelope["event_id"],
        "source_type": envelope["type"],
        "source_stream": envelope["stream_id"],
        "due_at": schedule.release(now, p.channel, quiet).isoformat(),
        "context": p.context,  # internal: public data and names only
    }
    if p.channel == "inbox":  # staff texts: rendered now, delivered as recorded
        title, body, _ = settings.template(store.conn, p.kind)
        data["title"], data["body"] = render(p.kind, title, body, p.context)
    events = [_event("NotificationQueued", data, envelope, now)]
    if p.channel == "inbox":
        sent = {"channel": "inbox", "attempt": 1}
        events.append(_event("NotificationSent", sent, envelope, now))
    handle(
        store,
        f"notification-{p.id}",
        envelope["district"],
        fold=bool,
        decide=lambda exists: [] if exists else events,
        project=projections.apply,
    )


def _event(type_, data, envelope, now, actor=SYSTEM) -> NewEvent:
    return NewEvent(
        type_,
        data,
        actor=actor,
        occurred_at=now,
        correlation_id=envelope.get("correlation_id"),
        causation_id=envelope.get("event_id"),
    )


def render(kind: str, title: str, body: str, context: dict) -> tuple[str, str]:
    """The district's template; its default if the district's fails to render
    (it rendered on a sample when saved, but real data may differ)."""
    try:
        return templates.render(title, body, context)
    except templates.TemplateProblem:
        return templates.render(*templates.default(kind), context)


# ---- settings, recorded on notify-<district> ----------------------------------------


def _setting(store, district, type_, data, actor, now) -> None:
    event = NewEvent(type_, data, actor=actor, occurred_at=now)
    handle(
        store,
        f"notify-{district}",
        district,
        fold=lambda history: None,
        decide=lambda _: [event],
        project=projections.apply,
    )


def set_rule(store, district, actor, kind, channels, now) -> None:
    if kind not in rules.KINDS:
        raise NotFound(f"no notification kind {kind!r}")
    try:
        checked = rules.check(kind, channels)
    except rules.RuleError as exc:
        raise Invalid(str(exc)) from None
    data = {"kind": kind, "channels": list(checked)}
    _setting(store, district, "NotifyRuleSet", data, actor, now)


def set_template(store, district, actor, kind, title, body, now) -> None:
    if kind not in rules.KINDS:
        raise NotFound(f"no notification kind {kind!r}")
    try:
        templates.check(kind, title, body)
    except templates.TemplateProblem as exc:
        raise Invalid(f"template {kind} does not render: {exc}") from None
    data = {"kind": kind, "title": title, "body": body}
    _setting(store, district, "NotifyTemplateSet", data, actor, now)


def set_office(store, district, actor, people, now) -> None:
    with district_scope(store.conn, district):
        known = {
            row[0]
            for row in store.conn.execute(
                "SELECT id FROM directory.people WHERE id = ANY(%s)", (people,)
            )
        }
    unknown = sorted(set(people) - known)
    if unknown:
        raise Invalid(f"not in district {district}'s directory: {', '.join(unknown)}")
    people = list(dict.fromkeys(people))
    _setting(store, district, "NotifyOfficeSet", {"people": people}, actor, now)


def mark_read(store, district, notification_id, audiences, actor, now) -> None:
    def decide(exists):
        row = store.conn.execute(
            "SELECT audience, read_at FROM notify.inbox WHERE id = %s",
            (notification_id,),
        ).fetchone()
        if row is None or row[0] not in audiences:
            raise NotFound(f"no inbox item {notification_id} here")
        if row[1] is not None:
            return []  # read already: the first reader stays on record
        return [NewEvent("NotificationRead", {}, actor=actor, occurred_at=now)]

    handle(
        store,
        f"notification-{notification_id}",
        district,
        fold=bool,
        decide=decide,
        project=projections.apply,
    )
