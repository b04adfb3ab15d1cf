"""The command handler every service uses: load, fold, decide, append, project.

    recorded = handle(store, "complaint-C-2026-000123", "binhai",
                      fold=complaint.fold,
                      decide=lambda state: complaint.decide(state, cmd, now),
                      project=projections.apply)

`fold(history) -> state` and `decide(state) -> [NewEvent]` are the aggregate's pure
functions (decide raises a domain error to refuse: nothing is written then).
`project(store, recorded)` updates the service's read model in the same transaction as
the events, with the stream's district set for row-level security. On a conflict
(another command appended to the stream first) the whole command is decided again on
the new history, in a new transaction, up to `retries` times: a decision made on stale
state is never appended. Called inside a transaction of the caller's, it does not
retry: the conflict goes up to whoever owns the transaction.
"""

from collections.abc import Callable
from typing import Any

from .model import ConcurrencyError, NewEvent, RecordedEvent
from .store import EventStore

Fold = Callable[[list[RecordedEvent]], Any]
Decide = Callable[[Any], list[NewEvent]]
Project = Callable[[EventStore, list[RecordedEvent]], None]


def handle(
    store: EventStore,
    stream_id: str,
    district: str,
    *,
    fold: Fold,
    decide: Decide,
    project: Project | None = None,
    retries: int = 3,
) -> list[RecordedEvent]:
    if store.in_transaction():
        # Inside the caller's transaction a retry would meet the same conflict (the
        # transaction keeps its id): the caller retries its whole transaction instead.
        retries = 0
    for attempt in range(retries + 1):
        try:
            with store.transaction():
                # Read models are scoped by district (eventlog/tenancy.py): the
                # projection writes under this command's district.
                store.conn.execute(
                    "SELECT set_config('liuhen.district', %s, true)", (district,)
                )
                history = store.read_stream(stream_id)
                events = decide(fold(history))
                version = history[-1].stream_version if history else 0
                recorded = store.append(stream_id, district, version, events)
                if project is not None and recorded:
                    project(store, recorded)
                return recorded
        except ConcurrencyError:
            if attempt == retries:
                raise
    raise AssertionError("unreachable")  # the loop returns or raises
