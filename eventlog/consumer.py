"""Idempotent consumers: effects exactly once over at-least-once delivery."""

from uuid import UUID


def first_delivery(conn, consumer: str, event_id: UUID | str) -> bool:
    """Record that `consumer` applies `event_id`; False if it already had.

    Call it inside the transaction that performs the effect, before the effect:

        with conn.transaction():
            if first_delivery(conn, "notify.dispatched", event["event_id"]):
                ...effect...

    A redelivered event finds the row and the effect is skipped. Two deliveries racing
    in parallel serialise on the primary key: the second waits for the first to commit,
    then inserts nothing. If the effect fails, the row rolls back with it and the next
    delivery tries again.
    """
    cur = conn.execute(
        "INSERT INTO eventlog.processed (consumer, event_id) VALUES (%s, %s)"
        " ON CONFLICT DO NOTHING",
        (consumer, str(event_id)),
    )
    return cur.rowcount == 1
