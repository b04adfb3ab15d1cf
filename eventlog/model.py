"""What the log stores, and the errors it raises."""

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

STREAM_ID = re.compile(r"^[a-z][a-z0-9_]*-[A-Za-z0-9_.:-]+$")
DISTRICT = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
EVENT_TYPE = re.compile(r"^[A-Z][A-Za-z0-9]{0,99}$")


def category(stream_id: str) -> str:
    """`complaint-C-2026-000123` -> `complaint` (Message DB's category-id rule)."""
    return stream_id.split("-", 1)[0]


@dataclass(frozen=True)
class Actor:
    """Who asks a service to act: a token's subject, its role, and for a unit
    handler, its unit. `str()` is the event's `actor`: role and subject only, so it
    never carries a complainant's identity."""

    id: str
    role: str
    unit: str | None = None

    def __str__(self) -> str:
        return f"{self.role}:{self.id}"


@dataclass(frozen=True)
class NewEvent:
    """An event about to be appended. The store adds stream, version, times, hashes."""

    type: str
    data: dict[str, Any]
    actor: str
    reason: str | None = None
    schema_version: int = 1
    occurred_at: datetime | None = None  # when it happened; defaults to recorded time
    correlation_id: str | None = None  # the case it belongs to; defaults to the stream
    causation_id: str | None = None  # the event or command that caused it
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True)
class RecordedEvent:
    position: int
    tx_id: int
    event_id: UUID
    stream_id: str
    stream_version: int
    district: str
    type: str
    schema_version: int
    data: dict[str, Any]
    actor: str
    reason: str | None
    correlation_id: str | None
    causation_id: str | None
    occurred_at: datetime
    recorded_at: datetime
    prev_hash: bytes
    hash: bytes

    @property
    def category(self) -> str:
        return category(self.stream_id)

    def params(self) -> dict[str, Any]:
        """The event as a projection's SQL parameters: its data, and `id` (the
        stream's id after the category), `district`, `at`, `version`, `position`,
        `actor` and `correlation_id`."""
        return {
            **self.data,
            "id": self.stream_id.split("-", 1)[1],
            "district": self.district,
            "at": self.occurred_at,
            "version": self.stream_version,
            "position": self.position,
            "actor": self.actor,
            "correlation_id": self.correlation_id,
        }


@dataclass(frozen=True, order=True)
class Checkpoint:
    """Where a reader stands in the log's commit-safe order: (transaction id, position).

    Readers go in (tx_id, position) order and only past transactions that can no longer
    be running, so an event that commits late is never behind a reader's checkpoint.
    """

    tx_id: int = 0
    position: int = 0


START = Checkpoint()


class EventLogError(Exception):
    pass


class ConcurrencyError(EventLogError):
    """Wrong expected version: somebody appended to the stream first."""

    def __init__(
        self, stream_id: str, expected: int, actual: int | None, detail: str = ""
    ):
        self.stream_id, self.expected, self.actual = stream_id, expected, actual
        if detail:
            found = f"the stream is at version {actual}, but {detail}"
        elif actual is not None:
            found = f"but the stream is at version {actual}"
        else:
            found = f"but another writer appended version {expected + 1} first"
        super().__init__(f"stream {stream_id}: expected version {expected}, {found}")


class InvalidEvent(EventLogError, ValueError):
    pass


def check(event: NewEvent) -> NewEvent:
    """The event as it will be hashed, or InvalidEvent naming what is wrong.

    What is hashed must be what PostgreSQL stores and gives back: a field of another
    type (an int actor, a "1" schema version) or another spelling of a UUID would come
    back different, and the untouched row would fail verification.
    """
    if not isinstance(event.type, str) or not EVENT_TYPE.fullmatch(event.type):
        raise InvalidEvent(f"event type {event.type!r} is not a CamelCase name")
    if not isinstance(event.data, dict):
        raise InvalidEvent(f"{event.type}: data must be an object, not {event.data!r}")
    if not isinstance(event.actor, str) or not event.actor:
        raise InvalidEvent(f"{event.type}: actor must be a non-empty string")
    for name in ("reason", "correlation_id", "causation_id"):
        value = getattr(event, name)
        if value is not None and not isinstance(value, str):
            raise InvalidEvent(f"{event.type}: {name} must be a string or None")
    when = event.occurred_at
    # Years far from ours are mistakes, and near 1 or 9999 a time zone shift takes
    # them out of what Python or PostgreSQL can represent.
    if when is not None and not (
        isinstance(when, datetime) and when.tzinfo and 1900 <= when.year <= 9000
    ):
        raise InvalidEvent(
            f"{event.type}: occurred_at must be a timezone-aware time in 1900-9000"
        )
    version = event.schema_version
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidEvent(f"{event.type}: schema_version must be a positive integer")
    try:
        event_id = UUID(str(event.event_id))
    except ValueError:
        raise InvalidEvent(
            f"{event.type}: event_id {event.event_id!r} is not a UUID"
        ) from None
    return replace(event, event_id=event_id)
