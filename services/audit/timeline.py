"""A case's history as an inspector reads it: pure functions over recorded events.

The state of a stream, for audit, is what its events recorded: each event's data laid
over the last (what identifies a complainant masked), with the status the event puts
the stream in (services/audit/summaries.py). Each entry of a timeline says what
happened, who did it and why, what it changed, what caused it, and whether its hash
still verifies in its stream's chain.
"""

from dataclasses import dataclass, field

from contracts.audit import CONFIDENTIAL
from eventlog.model import RecordedEvent
from eventlog.verify import check_event

from . import summaries

MASK = "（保密）"


@dataclass(frozen=True)
class State:
    version: int = 0
    status: str | None = None
    fields: dict = field(default_factory=dict)


def evolve(state: State, event: RecordedEvent) -> State:
    visible = {
        key: (MASK if key in CONFIDENTIAL and value is not None else value)
        for key, value in event.data.items()
    }
    return State(
        version=event.stream_version,
        status=summaries.status_after(event.type, event.data, state.status),
        fields={**state.fields, **visible},
    )


def states(history: list[RecordedEvent]) -> dict[int, State]:
    """A stream's state after each version (0: before the first)."""
    out, state = {0: State()}, State()
    for event in history:
        state = evolve(state, event)
        out[event.stream_version] = state
    return out


def problems(history: list[RecordedEvent]) -> dict[int, str]:
    """Chain problems of one stream's events, by position."""
    found, previous = {}, None
    for event in history:
        problem = check_event(event, previous)
        if problem:
            found[event.position] = problem
        previous = event
    return found


def changes(before: State, after: State) -> list[dict]:
    keys = [k for k in after.fields if before.fields.get(k) != after.fields[k]]
    out = [
        {"field": k, "before": before.fields.get(k), "after": after.fields[k]}
        for k in keys
    ]
    if before.status != after.status:
        out.insert(
            0, {"field": "status", "before": before.status, "after": after.status}
        )
    return out


def entry(
    event: RecordedEvent,
    before: State,
    after: State,
    problem: str | None,
    unit_names: dict[str, str],
    caused_by: int | None = None,
) -> dict:
    role, _, _ = event.actor.partition(":")
    return {
        "position": event.position,
        "event_id": str(event.event_id),
        "stream_id": event.stream_id,
        "stream_version": event.stream_version,
        "type": event.type,
        "label": summaries.label(event.type),
        "summary": summaries.summary(event.type, event.data, unit_names),
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "actor": event.actor,
        "role": role,
        "reason": event.reason,
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        "caused_by": caused_by,
        "status_before": before.status,
        "status_after": after.status,
        "changes": changes(before, after),
        "hash": event.hash.hex(),
        "verified": problem is None,
        "problem": problem,
    }


def timeline(
    events: list[RecordedEvent],
    streams: dict[str, list[RecordedEvent]],
    unit_names: dict[str, str],
) -> list[dict]:
    """Entries for `events` (a case's, in commit order), each against its stream's
    whole history in `streams` (for the state before it and its chain)."""
    folded = {s: states(history) for s, history in streams.items()}
    broken = {}
    for history in streams.values():
        broken.update(problems(history))
    by_id = {str(e.event_id): e.position for e in events}
    return [
        entry(
            e,
            folded[e.stream_id].get(e.stream_version - 1, State()),
            folded[e.stream_id][e.stream_version],
            broken.get(e.position),
            unit_names,
            by_id.get(e.causation_id or ""),
        )
        for e in events
    ]
