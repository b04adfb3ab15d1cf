"""The canonical encoding of an event, and the hash chain over it.

The hash of an event is SHA-256(previous hash || canonical bytes). The canonical bytes
are compact JSON with sorted keys, UTF-8, of every field the log stores about the event
except its global position and the hashes themselves (the previous hash enters through
the concatenation). Times are UTC ISO 8601 with microseconds.

The encoding never contains a raw newline (JSON escapes control characters), which
lets an append send several events as one newline-separated text.

Floats are refused in event data: PostgreSQL's jsonb re-renders numbers (1e20 comes
back as 100000000000000000000), so a float could not be re-encoded to the bytes that
were hashed. Events carry decimals as strings.
"""

import hashlib
import json
from datetime import UTC, datetime

GENESIS = bytes(32)


def timestamp(value: datetime) -> str:
    """UTC, microseconds, and always four digits of year: strftime("%Y") writes year 5
    as "5", which PostgreSQL reads as 2005."""
    if value.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    utc = value.astimezone(UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S.%f}Z"


def _check_value(value, path="data"):
    if isinstance(value, float):
        raise TypeError(f"{path} is a float; event data carries decimals as strings")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(f"{path} contains a NUL character, which jsonb cannot store")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has a non-string key {key!r}")
            _check_value(key, f"{path} key {key!r}")
            _check_value(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]")


def encode(fields: dict) -> bytes:
    """Canonical bytes of one event's hashed fields (see `hashed_fields`)."""
    for name in ("data", "actor", "reason", "type", "correlation_id", "causation_id"):
        _check_value(fields[name], name)
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


HASHED = (
    "event_id",
    "stream_id",
    "stream_version",
    "district",
    "type",
    "schema_version",
    "data",
    "actor",
    "reason",
    "correlation_id",
    "causation_id",
    "occurred_at",
    "recorded_at",
)  # every stored field but position, tx_id and the hashes


def hashed_fields(**values) -> dict:
    """The fields of HASHED, in their canonical form (ids and times as text)."""
    fields = {name: values[name] for name in HASHED}
    fields["event_id"] = str(fields["event_id"])
    fields["occurred_at"] = timestamp(fields["occurred_at"])
    fields["recorded_at"] = timestamp(fields["recorded_at"])
    return fields


def hashed_fields_of(event) -> dict:
    """hashed_fields of anything that has them as attributes (a RecordedEvent)."""
    return hashed_fields(**{name: getattr(event, name) for name in HASHED})


def chain(previous_hash: bytes, canonical: bytes) -> bytes:
    return hashlib.sha256(previous_hash + canonical).digest()
