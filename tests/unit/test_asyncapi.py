"""The AsyncAPI document of the live feed: generated from every registered type, a
valid AsyncAPI 3.0 document, and true to what the relay publishes (real envelopes
validate against their message, on the routing key their channel names)."""

import json
import re
import warnings
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from jsonschema import Draft7Validator
from marshmallow import Schema, fields
from referencing import Registry as Resources
from referencing.jsonschema import DRAFT7

import contracts  # noqa: F401  (registers every service's events)
from contracts.asyncapi import ELSEWHERE, STREAMS, UnknownCategory, category, document
from contracts.envelope import envelope
from contracts.registry import REGISTRY, Registry, routing_key
from eventlog.model import RecordedEvent
from eventlog.relay import EXCHANGE

TYPES = sorted({type_ for type_, _ in REGISTRY.schemas})
BASE = "urn:liuhen:asyncapi"  # the document as a JSON Schema resource, for its $refs

# One event or more of each service, as its service stores it: on the stream it
# appends to, with the internal fields its public schema leaves out.
SAMPLES = [
    (
        "complaint-C-2026-000123",
        "ComplaintDispatched",
        {"unit": "housing", "unit_name": "住建局", "time_limit": {"days": 5}},
        None,
    ),
    (
        "complaint-C-2026-000123",
        "ComplaintOverdue",
        {"unit": "housing", "due_at": "2026-02-27T23:59:59.999999+08:00"},
        "time limit passed",
    ),
    (
        "issue-I-2026-7K3M9QXA",
        "IssueRegistered",
        {
            "issue_id": "I-2026-7K3M9QXA",
            "campaign_id": "CP-2026-5D8F2H6J",
            "unit": "housing",
            "list": "problem",
            "source": "self_inspection",
            "manifestation": "审批材料重复提交，群众多次跑腿",
        },
        None,
    ),
    (
        "case-CA-2026-AAAAAAAA",
        "CaseOpened",
        {
            "case_id": "CA-2026-AAAAAAAA",
            "unit": "approvals",
            "subject": "qian-lei",  # withheld until a decision
            "subject_role": "official",
            "origin": "clue",
            "clue_id": "CL-2026-AAAAAAAA",
        },
        "拖延办理",  # written by an inspector: never published
    ),
    (
        "assessment-binhai-2026-09",
        "AssessmentPublished",
        {
            "period": "2026-09",
            "ranking": [{"unit": "approvals", "score": "97.5", "rank": 1}],
            "bottom": ["approvals"],
            "directory_version": 3,
        },
        None,
    ),
    (
        "notify-binhai",
        "NotifyRuleSet",
        {"kind": "complaint_accepted.complainant", "channels": ["contact"]},
        None,
    ),
    (
        "delivery-msg_0123456789abcdef01234567",
        "WebhookDelivered",
        {
            "delivery_id": "msg_0123456789abcdef01234567",
            "subscription_id": "W-2026-7K3M9QXA",
            "attempt": 1,
            "status": 204,
        },
        None,
    ),
    (
        "directory-binhai",
        "UnitRegistered",
        {
            "code": "approvals",
            "name": "行政审批局",
            "main_leader": "zhang-wei",
            "leader_in_charge": "liu-fang",
        },
        None,
    ),
    (
        "token-abcdefghjk",
        "TokenIssued",
        {
            "token_id": "abcdefghjk",
            "role": "intake",
            "unit": None,
            "subject": "intake-abcd",
            "secret_hash": "5e" * 32,
        },
        None,
    ),
    (
        "digest-binhai",
        "DigestRecorded",
        {
            "district": "binhai",
            "head_tx": 912,
            "head_position": 120,
            "count": 120,
            "digest": "ab" * 32,
            "algorithm": "sha256-chain/v1",
            "key_id": "0123456789abcdef",
            "signature": "c2lnbmF0dXJl",
        },
        None,
    ),
]


@pytest.fixture(scope="module")
def doc() -> dict:
    """Built per run rather than at import: a type of unknown category then fails
    the tests that need the document, and the category test names it."""
    return document()


def recorded(stream_id, type_, data, reason=None, district="binhai") -> RecordedEvent:
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    return RecordedEvent(
        position=42,
        tx_id=900,
        event_id=uuid4(),
        stream_id=stream_id,
        stream_version=3,
        district=district,
        type=type_,
        schema_version=1,
        data=data,
        actor="supervisor:sup-1",
        reason=reason,
        correlation_id=stream_id,
        causation_id=None,
        occurred_at=now,
        recorded_at=now,
        prev_hash=bytes(32),
        hash=b"\x5e" * 32,
    )


def payload_validator(doc: dict, type_: str) -> Draft7Validator:
    """A validator of `type_`'s payload, its $refs resolved in the whole document."""
    resources = Resources().with_resource(BASE, DRAFT7.create_resource(doc))
    pointer = f"{BASE}#/channels/{type_}/messages/{type_}/payload"
    return Draft7Validator({"$ref": pointer}, registry=resources)


def refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve(doc: dict, ref: str):
    assert ref.startswith("#/"), f"{ref} is not a local reference"
    node = doc
    for part in ref[2:].split("/"):
        assert part in node, f"{ref} points at nothing"
        node = node[part]
    return node


# The document as a whole ---------------------------------------------------------


def test_every_registered_type_has_one_channel_message_and_receive_operation(doc):
    assert sorted(doc["channels"]) == TYPES
    for type_ in TYPES:
        channel = doc["channels"][type_]
        assert list(channel["messages"]) == [type_]
        assert channel["messages"][type_]["name"] == type_
        receivers = [
            op
            for op in doc["operations"].values()
            if op["channel"] == {"$ref": f"#/channels/{type_}"}
        ]
        assert [op["action"] for op in receivers] == ["receive"]
    assert len(doc["operations"]) == len(TYPES)


def test_the_document_is_json(doc):
    assert json.loads(json.dumps(doc, ensure_ascii=False)) == doc


def test_the_document_is_a_valid_asyncapi_3_document(doc):
    with warnings.catch_warnings():  # its models' field names shadow pydantic's
        warnings.simplefilter("ignore", UserWarning)
        from asyncapi3 import AsyncAPI3

    assert AsyncAPI3.model_validate(doc).asyncapi == "3.0.0"


def test_every_reference_points_at_something_the_document_holds(doc):
    # asyncapi3 checks each object's shape, not where references lead.
    found = list(refs(doc))
    assert len(found) > 4 * len(TYPES)
    for ref in found:
        resolve(doc, ref)


def test_each_operation_receives_the_messages_of_its_own_channel(doc):
    for operation in doc["operations"].values():
        channel = operation["channel"]["$ref"]
        for message in operation["messages"]:
            assert message["$ref"].startswith(f"{channel}/messages/")


def test_channel_parameters_are_exactly_the_expressions_in_the_address(doc):
    for channel in doc["channels"].values():
        named = set(re.findall(r"\{(\w+)\}", channel["address"]))
        assert named == set(channel["parameters"]) == {"district"}


def test_channels_bind_to_the_exchange_the_relay_publishes_to(doc):
    binding = doc["components"]["channelBindings"]["events"]["amqp"]
    assert binding["exchange"] == {
        "name": EXCHANGE,
        "type": "topic",
        "durable": True,
        "autoDelete": False,
    }
    assert doc["servers"]["rabbitmq"]["protocol"] == "amqp"
    assert doc["servers"]["rabbitmq"]["variables"]["host"]["default"] == (
        "localhost:5672"
    )


def test_the_description_tells_integrators_how_to_follow_the_feed(doc):
    text = doc["info"]["description"]
    for words in (EXCHANGE, "<district>.<category>.<action>", "event_id"):
        assert words in text
    assert "GET /v1/events?after=POSITION" in text
    assert "at least once" in text and "topic permissions" in text


@pytest.mark.parametrize("type_", TYPES)
def test_every_payload_is_a_json_schema(type_, doc):
    Draft7Validator.check_schema(doc["channels"][type_]["messages"][type_]["payload"])


def test_each_payload_is_the_envelope_by_reference_narrowed_to_its_type(doc):
    envelope_schema = doc["components"]["schemas"]["Envelope"]
    Draft7Validator.check_schema(envelope_schema)
    for type_ in TYPES:
        payload = doc["channels"][type_]["messages"][type_]["payload"]
        assert payload["allOf"] == [{"$ref": "#/components/schemas/Envelope"}]
        assert set(payload["properties"]) <= set(envelope_schema["properties"])


def test_schema_docstrings_describe_their_messages(doc):
    message = doc["channels"]["CaseBulletinPublished"]["messages"]
    assert "public by design" in message["CaseBulletinPublished"]["description"]
    assert (
        "description" not in doc["channels"]["TokenIssued"]["messages"]["TokenIssued"]
    )


# Real envelopes --------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=[s[1] for s in SAMPLES])
def test_a_published_envelope_validates_on_the_routing_key_of_its_channel(sample, doc):
    event = recorded(*sample)
    version, public = REGISTRY.public(event.type, 1, event.data)
    REGISTRY.validate(event.type, version, public)  # a valid payload to begin with
    body = envelope(event)
    payload_validator(doc, event.type).validate(body)
    address = doc["channels"][event.type]["address"]
    assert address.replace("{district}", event.district) == routing_key(
        event.district, event.category, event.type
    )


def test_the_samples_cover_every_service():
    assert {REGISTRY.owners[s[1]] for s in SAMPLES} == set(REGISTRY.owners.values())


def test_a_payload_the_relay_withheld_validates_too(doc):
    # eventlog/relay.py publishes a payload that fails to encode with data: null.
    stream_id, type_, data, _ = SAMPLES[0]
    withheld = envelope(recorded(stream_id, type_, data), Registry())
    assert withheld["data"] is None
    payload_validator(doc, type_).validate(withheld)


def test_a_message_refuses_another_type_category_or_undeclared_data(doc):
    stream_id, type_, data, _ = SAMPLES[0]
    body = envelope(recorded(stream_id, type_, data))
    validator = payload_validator(doc, type_)
    for wrong in (
        {"type": "ComplaintSigned"},
        {"category": "issue"},
        {"data": {**body["data"], "phone": "13800138000"}},
        {"reason": "张三来电"},  # this type's reasons are not published
    ):
        assert not validator.is_valid({**body, **wrong}), wrong
    assert not validator.is_valid({k: v for k, v in body.items() if k != "hash"})


# Stream categories ---------------------------------------------------------------


@pytest.mark.parametrize("type_", TYPES)
def test_every_registered_type_has_a_known_stream_category(type_):
    assert category(type_) in STREAMS


@pytest.mark.parametrize(
    "type_, expected",
    [
        ("ComplaintDispatched", "complaint"),
        ("CampaignLaunched", "campaign"),
        ("NotificationQueued", "notification"),
        ("NotifyRuleSet", "notify"),
        ("WebhookSubscribed", "webhook"),
        ("WebhookAttemptFailed", "delivery"),
        ("PersonRemoved", "directory"),
        ("TokenIssued", "token"),
        ("AssessmentPublished", "assessment"),
    ],
)
def test_a_category_is_the_first_word_unless_listed_elsewhere(type_, expected):
    assert category(type_) == expected


@pytest.mark.parametrize(
    "type_",
    [
        "GadgetInvented",  # no such stream
        "UnitMerged",  # `unit` is no stream: directory events are listed one by one
        "WebhookPaused",  # subscription or delivery? Webhook types are listed
    ],
)
def test_a_type_whose_category_is_not_certain_fails_rather_than_guesses(type_):
    with pytest.raises(UnknownCategory, match=type_):
        category(type_)


def test_the_document_of_an_unknown_category_is_refused():
    registry = Registry()
    registry.register("GadgetInvented", 1, service="lab")(
        type("GadgetInventedV1", (Schema,), {"name": fields.String()})
    )
    with pytest.raises(UnknownCategory, match="GadgetInvented"):
        document(registry)


def test_the_category_tables_hold_nothing_stale():
    assert set(ELSEWHERE) <= set(TYPES)
    assert {category(type_) for type_ in TYPES} == set(STREAMS)
