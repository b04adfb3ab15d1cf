"""What can be asked of a complaint: one frozen dataclass per command.

Commands are imperative and carry who asks (`by`). They are already validated at the
edge (contracts/complaints.py); the rules about *when* they may be obeyed live in
domain.py.
"""

from dataclasses import dataclass, field

from eventlog.deadlines import TimeLimit
from eventlog.model import Actor

SYSTEM = Actor("timer", "system")


@dataclass(frozen=True)
class ReceiveComplaint:
    id: str
    channel: str
    kind: str
    category: str
    description: str
    by: Actor
    urgent: bool = False
    title: str | None = None
    unit_complained: str | None = None
    persons: tuple[str, ...] = ()
    location: dict = field(default_factory=dict)
    attachments: tuple[str, ...] = ()
    # {ref, ciphertext, given} (identity.seal: the identity encrypted); None: anonymous
    complainant: dict | None = None
    query_code_hash: str | None = None  # for anonymous follow-up
    # Sealed (sealed.py): received in another district, about its principal leader
    forwarded_from: dict | None = None


@dataclass(frozen=True)
class AcceptComplaint:
    by: Actor
    note: str | None = None


@dataclass(frozen=True)
class RejectComplaint:
    reason: str
    by: Actor


@dataclass(frozen=True)
class MergeComplaint:
    into: str  # the complaint id it duplicates
    by: Actor
    reason: str | None = None


@dataclass(frozen=True)
class DispatchComplaint:
    unit: str
    unit_name: str
    limit: TimeLimit  # from the district's rule table for this kind
    by: Actor
    note: str | None = None


@dataclass(frozen=True)
class SignComplaint:
    by: Actor


@dataclass(frozen=True)
class ReturnComplaint:
    reason: str
    by: Actor


@dataclass(frozen=True)
class RequestExtension:
    days: int
    reason: str
    by: Actor


@dataclass(frozen=True)
class ApproveExtension:
    by: Actor
    reason: str | None = None


@dataclass(frozen=True)
class RefuseExtension:
    reason: str
    by: Actor


@dataclass(frozen=True)
class ReplyComplaint:
    result: str
    by: Actor
    substantiated: bool | None = None  # was the misconduct found to be real?


@dataclass(frozen=True)
class GiveFeedback:
    text: str
    by: Actor


@dataclass(frozen=True)
class RateComplaint:
    rating: str
    by: Actor
    comment: str | None = None


@dataclass(frozen=True)
class CloseComplaint:
    by: Actor
    ruling: str | None = (
        None  # a supervisor's ruling closes without an accepting rating
    )


@dataclass(frozen=True)
class UrgeComplaint:
    by: Actor
    note: str | None = None


@dataclass(frozen=True)
class EscalateComplaint:
    reason: str
    by: Actor


@dataclass(frozen=True)
class HandOverComplaint:
    """A complaint revealing a systemic problem becomes a rectification issue."""

    campaign_id: str
    unit: str
    problem: str
    by: Actor


@dataclass(frozen=True)
class MarkOverdue:
    by: Actor = SYSTEM


@dataclass(frozen=True)
class RemindDeadline:
    by: Actor = SYSTEM
