from datetime import UTC, datetime
from uuid import uuid4

import pytest
from marshmallow import Schema, ValidationError, fields

from contracts.envelope import EnvelopeSchema, envelope, message
from contracts.registry import Registry, UnknownEventType, routing_key
from eventlog.model import RecordedEvent


def registry_with_two_versions() -> Registry:
    reg = Registry()

    @reg.register("ComplaintReceived", 1, service="complaints")
    class V1(Schema):
        channel = fields.String(required=True)

    @reg.register("ComplaintReceived", 2, service="complaints")
    class V2(Schema):
        channel = fields.String(required=True)
        category = fields.String(required=True)

    @reg.upcaster("ComplaintReceived", 1)
    def add_category(data):
        return {**data, "category": "unknown"}

    return reg


def recorded(
    type_="ComplaintReceived", version=1, data=None, reason=None
) -> RecordedEvent:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    return RecordedEvent(
        position=7,
        tx_id=100,
        event_id=uuid4(),
        stream_id="complaint-C1",
        stream_version=1,
        district="binhai",
        type=type_,
        schema_version=version,
        data=data if data is not None else {"channel": "12345", "phone": "13800000000"},
        actor="op-1",
        reason=reason,
        correlation_id="complaint-C1",
        causation_id=None,
        occurred_at=now,
        recorded_at=now,
        prev_hash=bytes(32),
        hash=b"\xab" * 32,
    )


@pytest.mark.parametrize(
    "district, category, type_, key",
    [
        ("binhai", "complaint", "ComplaintDispatched", "binhai.complaint.dispatched"),
        (
            "binhai",
            "complaint",
            "ComplaintExtensionRequested",
            "binhai.complaint.extension_requested",
        ),
        ("jinghai", "case", "DecisionMade", "jinghai.case.decision_made"),
    ],
)
def test_routing_keys_begin_with_the_district(district, category, type_, key):
    assert routing_key(district, category, type_) == key


def test_old_versions_are_upcast_to_the_latest():
    reg = registry_with_two_versions()
    assert reg.upcast("ComplaintReceived", 1, {"channel": "letter"}) == (
        2,
        {"channel": "letter", "category": "unknown"},
    )


def test_public_payload_carries_only_declared_fields():
    env = envelope(recorded(), registry_with_two_versions())
    assert env["data"] == {"channel": "12345", "category": "unknown"}
    assert env["schema_version"] == 2
    assert (
        "13800000000"
        not in message(recorded(), registry_with_two_versions())[1].decode()
    )


def test_an_unregistered_type_is_published_without_its_data():
    env = envelope(recorded(type_="SomethingInternal"), Registry())
    assert env["data"] is None
    assert env["hash"] == "ab" * 32


def test_validate_names_the_missing_field_and_unknown_types_are_refused():
    reg = registry_with_two_versions()
    with pytest.raises(ValidationError) as err:
        reg.validate("ComplaintReceived", 2, {"channel": "web"})
    assert "category" in err.value.messages
    with pytest.raises(UnknownEventType):
        reg.validate("Nope", 1, {})


def test_a_type_version_cannot_be_registered_twice():
    reg = registry_with_two_versions()
    with pytest.raises(ValueError, match="twice"):
        reg.register("ComplaintReceived", 1, service="complaints")(Schema)


@pytest.mark.parametrize("type_", ["ComplaintReceived", "SomethingInternal"])
def test_every_envelope_validates_against_the_documented_schema(type_):
    env = envelope(recorded(type_=type_), registry_with_two_versions())
    assert EnvelopeSchema().validate(env) == {}
    assert set(env) == set(EnvelopeSchema().fields)


def test_a_reason_is_published_only_where_the_type_declares_it_public():
    reg = registry_with_two_versions()

    @reg.register("ComplaintOverdue", 1, service="complaints", public_reason=True)
    class Overdue(Schema):
        pass

    written = recorded(
        "ComplaintReceived",
        2,
        {"channel": "12345", "category": "x"},
        reason="张三来电，说窗口的李科长收了他两条烟",
    )
    assert envelope(written, reg)["reason"] is None
    fixed = recorded("ComplaintOverdue", 1, {}, reason="time limit passed")
    assert envelope(fixed, reg)["reason"] == "time limit passed"


def test_complaint_reasons_written_by_people_are_never_published():
    import contracts  # noqa: F401  (registers every service's events)
    from contracts.registry import REGISTRY

    people_write = {
        "ComplaintRejected",
        "ComplaintReturned",
        "ComplaintClosed",
        "ComplaintEscalated",
        "ComplaintExtensionRequested",
        "ComplaintDispatched",
        "ComplaintUrged",
        "ComplaintAccepted",
    }
    assert not people_write & REGISTRY.public_reasons
