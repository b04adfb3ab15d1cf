"""The webhooks read model: projected in the events' transaction, and its views.

Every statement runs with the district set (handle() sets it for projections, views
use district_scope), so row-level security keeps districts apart.
"""

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from contracts.webhooks import DELIVERY_ID
from eventlog.paging import page
from eventlog.tenancy import district_scope

SUBSCRIBED = """
INSERT INTO notify.webhook_subscriptions
    (id, district, url, event_types, status, created_at, updated_at, version)
VALUES (%(sid)s, %(district)s, %(url)s, %(types)s, 'active', %(at)s, %(at)s, %(v)s)
"""
SUBSCRIPTION_SETS = {
    "WebhookSubscriptionChanged": "url = %(url)s, event_types = %(types)s",
    "WebhookUnsubscribed": "status = 'removed'",
    "WebhookSecretRotated": "status = status",
}
SCHEDULED = """
INSERT INTO notify.webhook_deliveries (id, district, subscription_id, event_id,
    event_type, body, status, next_attempt_at, created_at, updated_at, version)
VALUES (%(did)s, %(district)s, %(sid)s, %(event_id)s, %(event_type)s, %(body)s,
    'pending', %(at)s, %(at)s, %(at)s, %(v)s)
"""
DELIVERY_SETS = {
    "WebhookDelivered": "status = 'delivered', attempts = %(attempt)s,"
    " last_status = %(status)s, last_error = NULL, delivered_at = %(at)s,"
    " next_attempt_at = NULL",
    "WebhookAttemptFailed": "attempts = %(attempt)s, last_status = %(status)s,"
    " last_error = %(error)s, next_attempt_at = %(next_attempt_at)s",
    "WebhookDeadLettered": "status = 'dead', next_attempt_at = NULL",
    "WebhookResendRequested": "status = 'pending', next_attempt_at = %(at)s",
}
DUE = {
    "WebhookDeliveryScheduled": "INSERT INTO notify.webhook_due VALUES"
    " (%(did)s, %(district)s, %(at)s)",
    "WebhookResendRequested": "INSERT INTO notify.webhook_due VALUES"
    " (%(did)s, %(district)s, %(at)s)"
    " ON CONFLICT (delivery_id) DO UPDATE SET due_at = excluded.due_at",
    "WebhookAttemptFailed": "UPDATE notify.webhook_due SET due_at ="
    " coalesce(%(next_attempt_at)s::timestamptz, due_at) WHERE delivery_id = %(did)s",
    "WebhookDelivered": "DELETE FROM notify.webhook_due WHERE delivery_id = %(did)s",
    "WebhookDeadLettered": "DELETE FROM notify.webhook_due WHERE delivery_id = %(did)s",
}
UPDATE = "UPDATE notify.{table} SET {sets}, updated_at = %(at)s, version = %(v)s"


def apply(store, recorded, body: str | None = None) -> None:
    """Project subscription and delivery events; `body` is the envelope a
    WebhookDeliveryScheduled delivers (it is not in the event: the event names it)."""
    conn = store.conn
    for e in recorded:
        p = {
            **e.data,
            "sid": e.data["subscription_id"],
            "did": e.data.get("delivery_id"),
            "types": Jsonb(e.data.get("event_types")),
            "district": e.district,
            "at": e.occurred_at,
            "v": e.stream_version,
            "body": body,
        }
        if e.type == "WebhookSubscribed":
            conn.execute(SUBSCRIBED, p)
        elif e.type in SUBSCRIPTION_SETS:
            sets = SUBSCRIPTION_SETS[e.type]
            sql = UPDATE.format(table="webhook_subscriptions", sets=sets)
            conn.execute(sql + " WHERE id = %(sid)s", p)
        elif e.type == "WebhookDeliveryScheduled":
            conn.execute(SCHEDULED, p)
        elif e.type in DELIVERY_SETS:
            sql = UPDATE.format(table="webhook_deliveries", sets=DELIVERY_SETS[e.type])
            conn.execute(sql + " WHERE id = %(did)s", p)
        if e.type in DUE:
            conn.execute(DUE[e.type], p)


def put_secret(conn, district, subscription_id, sealed, at) -> None:
    """In the transaction of the subscription's event (handle() set the district)."""
    conn.execute(
        "INSERT INTO notify.webhook_secrets VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (subscription_id) DO UPDATE"
        " SET sealed = excluded.sealed, updated_at = excluded.updated_at",
        (subscription_id, district, sealed, at),
    )


# ---- views -------------------------------------------------------------------------

SUBSCRIPTION_COLUMNS = (
    "id, district, url, event_types, status, created_at, updated_at"
    " FROM notify.webhook_subscriptions"
)
DELIVERY_COLUMNS = (
    "SELECT id, subscription_id, event_id::text, event_type, status, attempts,"
    " next_attempt_at, last_status, last_error, created_at, delivered_at"
    " FROM notify.webhook_deliveries"
)


def _json(row: dict) -> dict:
    """RPC bodies are JSON: times as ISO 8601."""
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


def _rows(conn, district, sql, args) -> list[dict]:
    with district_scope(conn, district):
        return conn.cursor(row_factory=dict_row).execute(sql, args).fetchall()


def subscriptions(conn, district, active_only=False) -> list[dict]:
    where = " WHERE status = 'active'" if active_only else ""
    sql = f"SELECT {SUBSCRIPTION_COLUMNS}{where} ORDER BY created_at DESC, id DESC"
    return [_json(r) for r in _rows(conn, district, sql, ())]


def subscription(conn, district, subscription_id) -> dict | None:
    sql = f"SELECT {SUBSCRIPTION_COLUMNS} WHERE id = %s"
    rows = _rows(conn, district, sql, (subscription_id,))
    return _json(rows[0]) if rows else None


def deliveries(conn, district, subscription_id, query) -> dict:
    rows, nxt = page(
        conn,
        district,
        select=DELIVERY_COLUMNS,
        order="created_at",
        key_pattern=DELIVERY_ID,
        filters={"status": "status = %s"},
        query=query,
        extra=(" AND subscription_id = %s", (subscription_id,)),
    )
    return {"items": [_json(r) for r in rows], "next": nxt}


def delivery(conn, district, delivery_id) -> dict | None:
    rows = _rows(conn, district, DELIVERY_COLUMNS + " WHERE id = %s", (delivery_id,))
    return _json(rows[0]) if rows else None


def outbound(conn, district, delivery_id) -> dict | None:
    """What the sender needs of one delivery: body, attempts, its subscription's URL
    and status, the sealed secret."""
    sql = (
        "SELECT d.id, d.status, d.attempts, d.body, s.id AS subscription_id,"
        " s.url, s.status AS subscription_status, k.sealed"
        " FROM notify.webhook_deliveries d"
        " JOIN notify.webhook_subscriptions s ON s.id = d.subscription_id"
        " LEFT JOIN notify.webhook_secrets k ON k.subscription_id = s.id"
        " WHERE d.id = %s"
    )
    rows = _rows(conn, district, sql, (delivery_id,))
    return rows[0] if rows else None
