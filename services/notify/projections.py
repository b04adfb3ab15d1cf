"""The notify read model, in the transaction of the events (handle()'s `project`).

Notifications: a row each, an outbox row while an email or SMS waits to go, an inbox
row for an inbox notification (rendered when queued: inbox texts are for staff and
hold nothing of a complainant's). Settings: the district's rules, templates, office.
"""

from psycopg.types.json import Jsonb

QUEUED = """
INSERT INTO notify.notifications (id, district, kind, recipient, channel, context,
    status, due_at, source_event_id, source_type, correlation_id, created_at, version)
VALUES (%(id)s, %(district)s, %(kind)s, %(recipient)s, %(channel)s, %(context)s,
    'queued', %(due_at)s, %(source_event_id)s, %(source_type)s, %(correlation_id)s,
    %(at)s, %(version)s)
"""
OUTBOX = """
INSERT INTO notify.outbox (notification_id, district, due_at)
VALUES (%(id)s, %(district)s, %(due_at)s)
ON CONFLICT (notification_id) DO UPDATE SET due_at = excluded.due_at
"""
INBOX = """
INSERT INTO notify.inbox (id, district, audience, kind, title, body, source_type,
    correlation_id, created_at)
VALUES (%(id)s, %(district)s, %(recipient)s, %(kind)s, %(title)s, %(body)s,
    %(source_type)s, %(correlation_id)s, %(at)s)
"""
NOTIFICATION = (
    "UPDATE notify.notifications SET {sets}, version = %(version)s WHERE id = %(id)s"
)
SETS = {
    "NotificationSent": "status = 'sent', attempts = %(attempt)s, sent_at = %(at)s,"
    " last_error = NULL",
    "NotificationFailed": "attempts = %(attempt)s, last_error = %(error)s,"
    " due_at = %(retry_at)s",
    "NotificationAbandoned": "status = 'abandoned', attempts = %(attempts)s,"
    " last_error = %(error)s",
}
OUTBOX_AFTER = {
    "NotificationSent": "DELETE FROM notify.outbox WHERE notification_id = %(id)s",
    "NotificationAbandoned": "DELETE FROM notify.outbox WHERE notification_id = %(id)s",
    "NotificationFailed": "UPDATE notify.outbox SET due_at = %(retry_at)s"
    " WHERE notification_id = %(id)s",
}
READ = "UPDATE notify.inbox SET read_at = %(at)s, read_by = %(actor)s WHERE id = %(id)s"
SETTINGS = {
    "NotifyRuleSet": "INSERT INTO notify.rules (district, kind, channels)"
    " VALUES (%(district)s, %(kind)s, %(channels_json)s) ON CONFLICT (district, kind)"
    " DO UPDATE SET channels = excluded.channels",
    "NotifyTemplateSet": "INSERT INTO notify.templates (district, kind, title, body)"
    " VALUES (%(district)s, %(kind)s, %(title)s, %(body)s) ON CONFLICT"
    " (district, kind) DO UPDATE SET title = excluded.title, body = excluded.body",
    "NotifyOfficeSet": "INSERT INTO notify.offices (district, people)"
    " VALUES (%(district)s, %(people_json)s) ON CONFLICT (district)"
    " DO UPDATE SET people = excluded.people",
}


def apply(store, recorded) -> None:
    for e in recorded:
        read_model(store.conn, e)
        outbox(store.conn, e)


def read_model(conn, e) -> None:
    """Notifications, the inbox and the settings: all but the outbox. What
    `liuhen projections rebuild notify` folds (services/notify/rebuild.py)."""
    p = e.params()
    if e.type == "NotificationQueued":
        conn.execute(QUEUED, {**p, "context": Jsonb(p["context"])})
        if p["channel"] == "inbox":
            conn.execute(INBOX, p)
    elif e.type in SETS:
        conn.execute(NOTIFICATION.format(sets=SETS[e.type]), p)
    elif e.type == "NotificationRead":
        conn.execute(READ, p)
    elif e.type in SETTINGS:
        p["channels_json"] = Jsonb(p.get("channels"))
        p["people_json"] = Jsonb(p.get("people"))
        conn.execute(SETTINGS[e.type], p)


def outbox(conn, e) -> None:
    """The senders' queue of emails and SMS: a rebuild keeps it (their leases)."""
    if e.type == "NotificationQueued" and e.data["channel"] != "inbox":
        conn.execute(OUTBOX, e.params())
    elif e.type in OUTBOX_AFTER:
        conn.execute(OUTBOX_AFTER[e.type], e.params())
