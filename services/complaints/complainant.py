"""The complainant's own stream, `complainant-<ref>`: every read of their identity,
and its erasure. Pure, as the complaint aggregate is.

Apart from the complaint's stream on purpose: a read is not a step of the complaint,
and an intake officer reading the identity must never conflict with a unit signing
for the complaint at the same moment. Each event sits in the complaint's correlation,
so the case's audit history shows who looked, when and why. No event here holds
anything of the identity: the actor, the reason the reader gave, the complaint.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from eventlog.model import NewEvent

from .domain import DomainError


class Erased(DomainError):
    """The identity was erased (its key destroyed): nobody can read it again."""

    code = "erased"


@dataclass(frozen=True)
class Complainant:
    reads: int = 0
    erased_at: datetime | None = None


def evolve(state: Complainant, event) -> Complainant:
    if event.type == "ComplainantIdentityRead":
        return Complainant(state.reads + 1, state.erased_at)
    if event.type == "ComplainantErased":
        return Complainant(state.reads, event.occurred_at)
    return state


def fold(history) -> Complainant:
    return reduce(evolve, history, Complainant())


def _event(type_, complaint_id, actor, reason, now, data=None) -> NewEvent:
    return NewEvent(
        type=type_,
        data={"complaint_id": complaint_id, **(data or {})},
        actor=actor,
        reason=reason,
        occurred_at=now,
        correlation_id=f"complaint-{complaint_id}",
    )


def read(state, ref, complaint_id, actor, reason, now, via) -> list[NewEvent]:
    """Record a read (`via`: api or notify); refused once erased. The caller returns
    the identity only if this is appended: a read that is not on record did not
    happen."""
    if state.erased_at is not None:
        raise Erased(
            f"the identity of complainant {ref} was erased on "
            f"{state.erased_at.isoformat()}; it cannot be read"
        )
    data = {"via": via}
    return [_event("ComplainantIdentityRead", complaint_id, actor, reason, now, data)]


def erase(state, complaint_id, actor, reason, now) -> list[NewEvent]:
    """Once: erasing an erased identity changes nothing."""
    if state.erased_at is not None:
        return []
    return [_event("ComplainantErased", complaint_id, actor, reason, now)]
