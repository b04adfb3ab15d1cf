"""The catch-up feed: a district's committed events after a position, paged.

An integrator's AMQP queue only holds what was published after it was bound; the feed
gives everything before (and, since it reads the same log in the same order, anything
after too). Each page is read exactly as the relay reads its batches:
`EventStore.read_after` in (tx_id, position) order, below the oldest running
transaction. Positions alone are not that order (a transaction that took position 10
may commit after the one that took 11), so a client's `after` is turned into the
checkpoint of that event (`checkpoint_of`), never read as `position > after`: the
first would miss 10 forever once the client had 11.
"""

import structlog

from contracts.envelope import envelope
from eventlog.model import START, Checkpoint
from eventlog.relay import WITHHELD

log = structlog.get_logger("services.audit.feed")


class UnknownPosition(Exception):
    """`after` is not the position of an event of the asking district."""


def page(store, district: str, after: int, limit: int) -> dict:
    """`{"events": [envelope...], "after": position, "more": bool}`: up to `limit`
    events of `district` after the event at `after` (0: from the start)."""
    checkpoint = _checkpoint(store, district, after)
    # One more than asked, in the same statement: `more` then says whether anything
    # was there beyond this page at that very snapshot, so a client never needs an
    # extra empty round trip to learn it is at the head.
    events = store.read_after(checkpoint, districts=[district], limit=limit + 1)
    shown = events[:limit]
    return {
        "events": [_public(e) for e in shown],
        "after": shown[-1].position if shown else after,
        "more": len(events) > limit,
    }


def _checkpoint(store, district: str, after: int) -> Checkpoint:
    if after == 0:
        return START
    # The same answer whether the position is another district's or no event's: a
    # token must not learn what exists outside its district.
    row = store.conn.execute(
        "SELECT district FROM eventlog.events WHERE position = %s", (after,)
    ).fetchone()
    if row is None or row[0] != district:
        raise UnknownPosition(
            f"after={after} is not the position of an event of district {district}; "
            "pass 0 to start from the beginning, or the `after` of a page you got"
        )
    return store.checkpoint_of(after)


def _public(event) -> dict:
    """As the relay publishes it: a payload that fails to encode goes out withheld
    (`data: null`) rather than stopping the feed (eventlog/relay.py, `_item`)."""
    try:
        return envelope(event)
    except Exception:
        log.exception(
            "event served without its data: its payload failed to encode",
            event_id=str(event.event_id),
            position=event.position,
            type=event.type,
        )
        return envelope(event, WITHHELD)
