from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from eventlog import canonical

T = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def fields(**overrides):
    base = dict(
        event_id=UUID(int=1),
        stream_id="complaint-1",
        stream_version=1,
        district="binhai",
        type="ComplaintReceived",
        schema_version=1,
        data={"b": 1, "a": ["x", {"z": None, "y": True}]},
        actor="op-1",
        reason=None,
        correlation_id="complaint-1",
        causation_id=None,
        occurred_at=T,
        recorded_at=T,
    )
    return canonical.hashed_fields(**{**base, **overrides})


def test_encoding_is_compact_sorted_utf8_and_ignores_key_order():
    one = canonical.encode(fields(data={"b": 1, "a": "滨海"}))
    two = canonical.encode(fields(data={"a": "滨海", "b": 1}))
    assert one == two
    assert b'"data":{"a":"\xe6\xbb\xa8\xe6\xb5\xb7","b":1}' in one
    assert b" " not in one


def test_times_are_utc_with_microseconds_whatever_the_zone_given():
    beijing = T.astimezone(timezone(timedelta(hours=8)))
    assert canonical.timestamp(beijing) == "2026-11-23T09:30:00.000000Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical.timestamp(datetime(2026, 1, 1))


def test_floats_are_refused_with_the_path_that_holds_them():
    with pytest.raises(TypeError, match=r"data\.a\[1\] is a float"):
        canonical.encode(fields(data={"a": [1, 2.5]}))


def test_every_hashed_field_changes_the_hash():
    reference = canonical.chain(canonical.GENESIS, canonical.encode(fields()))
    variants = dict(
        stream_version=2,
        district="jinghai",
        type="X",
        schema_version=2,
        data={},
        actor="op-2",
        reason="r",
        correlation_id="c",
        causation_id="e",
        occurred_at=T + timedelta(microseconds=1),
        recorded_at=T + timedelta(seconds=1),
        event_id=UUID(int=2),
        stream_id="complaint-2",
    )
    for name, value in variants.items():
        changed = canonical.chain(
            canonical.GENESIS, canonical.encode(fields(**{name: value}))
        )
        assert changed != reference, name
    assert canonical.chain(b"\x01" * 32, canonical.encode(fields())) != reference


def test_a_nul_in_a_key_is_refused_too():
    with pytest.raises(ValueError, match="NUL"):
        canonical.encode(fields(data={"a\x00": 1}))


def test_years_below_1000_keep_four_digits():
    assert canonical.timestamp(datetime(5, 3, 1, tzinfo=UTC)) == (
        "0005-03-01T00:00:00.000000Z"
    )
