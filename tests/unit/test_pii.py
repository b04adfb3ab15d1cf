"""Complainants' identities encrypted per complainant (services/complaints/pii.py):
what opens, what never does, and what the log, the feed and audit views carry."""

import base64
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts.registry import REGISTRY
from eventlog.model import RecordedEvent
from services.audit.timeline import MASK, State, evolve
from services.complaints import complainant
from services.complaints.pii import (
    PREFIX,
    KeyMissing,
    Keyring,
    Unreadable,
    WrappedKey,
    master_key_id,
    new_master_key,
    parse_master_key,
)
from services.notify import rules

MASTER = bytes(range(32))
WANG = {"name": "王秀英", "phone": "13900001111", "email": None, "address": None}
NOW = datetime(2026, 9, 14, 1, 0, tzinfo=UTC)


def sealed(identity=WANG, district="binhai", ref="P-000000000001", master=MASTER):
    return Keyring(master).seal_new(district, ref, identity)


def test_an_identity_opens_with_its_key_and_the_master_key():
    text, key = sealed()
    assert Keyring(MASTER).open("binhai", text, key) == WANG


def test_the_ciphertext_and_the_wrapped_key_hold_nothing_readable():
    text, key = sealed()
    assert text.startswith(PREFIX)
    raw = base64.b64decode(text[len(PREFIX) :])
    for value in ("王秀英".encode(), b"13900001111", "王秀英".encode("utf-16-le")):
        assert value not in raw and value not in key.wrapped
    assert "13900001111" not in text


def test_each_complainant_has_a_key_of_its_own():
    (a, key_a), (b, key_b) = sealed(), sealed()
    assert a != b and key_a.wrapped != key_b.wrapped  # fresh key, fresh nonces
    swapped = WrappedKey(key_a.ref, key_b.wrapped, key_b.master_key_id)
    with pytest.raises(Unreadable):
        Keyring(MASTER).open("binhai", a, swapped)


def test_the_length_does_not_tell_a_short_name_from_a_long_one():
    short, _ = sealed({"name": "王五"})
    longer, _ = sealed({"name": "欧阳秀英", "phone": "13900001111"})
    assert len(short) == len(longer)


@pytest.mark.parametrize(
    "district, ref",
    [("jinghai", "P-000000000001"), ("binhai", "P-000000000002")],
    ids=["another district", "another complainant"],
)
def test_a_box_moved_to_another_row_does_not_open(district, ref):
    text, key = sealed()
    moved = WrappedKey(ref, key.wrapped, key.master_key_id)
    with pytest.raises(Unreadable):
        Keyring(MASTER).open(district, text, moved)


def test_another_master_key_opens_nothing_and_says_which_key_wrapped_it():
    text, key = sealed()
    other = bytes(32)
    with pytest.raises(Unreadable, match=key.master_key_id):
        Keyring(other).open("binhai", text, key)
    forged = WrappedKey(key.ref, key.wrapped, master_key_id(other))
    with pytest.raises(Unreadable):
        Keyring(other).open("binhai", text, forged)


def test_an_altered_ciphertext_does_not_open():
    text, key = sealed()
    raw = bytearray(base64.b64decode(text[len(PREFIX) :]))
    raw[20] ^= 1
    altered = PREFIX + base64.b64encode(bytes(raw)).decode()
    with pytest.raises(Unreadable):
        Keyring(MASTER).open("binhai", altered, key)


def test_only_the_four_fields_are_kept():
    text, key = sealed({"name": "王五", "id_card": "310101199001011234"})
    opened = Keyring(MASTER).open("binhai", text, key)
    assert opened == {"name": "王五", "phone": None, "email": None, "address": None}


def test_the_master_key_is_32_bytes_of_base64():
    assert len(parse_master_key(new_master_key())) == 32
    for bad in (None, "", "short", base64.b64encode(b"x" * 31).decode(), "!" * 44):
        with pytest.raises(KeyMissing, match="LIUHEN_PII_KEY"):
            parse_master_key(bad)
    assert master_key_id(MASTER) == master_key_id(MASTER) != master_key_id(bytes(32))
    assert MASTER.hex()[:16] not in master_key_id(MASTER)


def test_a_schema_1_event_is_upcast_without_its_identity():
    v1 = {"complaint_id": "C-2026-AAAAAAAA", "channel": "12345", "kind": "complaint"}
    v1 |= {"category": "shirking", "urgent": False, "anonymous": False}
    v1["complainant"] = {"name": "王五", "phone": "13700001111"}
    version, data = REGISTRY.upcast("ComplaintReceived", 1, v1)
    assert version == 2 and "complainant" not in data
    assert data["complainant_ref"] == "C-2026-AAAAAAAA"  # a legacy complainant
    assert data["complainant_ciphertext"] is None
    assert data["complainant_given"] == ["name", "phone"]
    assert "王五" not in str(data) and "complainant" in v1  # the event is untouched


def test_what_is_published_names_no_complainant():
    text, _ = sealed()
    data = {"complaint_id": "C-2026-AAAAAAAA", "channel": "12345", "kind": "report"}
    data |= {"category": "shirking", "urgent": False, "anonymous": False}
    data |= {"complainant_ref": "P-1", "complainant_ciphertext": text}
    _, public = REGISTRY.public("ComplaintReceived", 2, data)
    assert not any(k.startswith("complainant") for k in public)
    read = complainant.read(
        complainant.Complainant(), "P-1", "C-1", "intake:li", "回访", NOW, "api"
    )
    _, public = REGISTRY.public("ComplainantIdentityRead", 1, read[0].data)
    assert public == {"complaint_id": "C-1", "via": "api"}


def recorded(data) -> RecordedEvent:
    return RecordedEvent(
        1, 1, uuid4(), "complaint-C-1", 1, "binhai", "ComplaintReceived", 2, data,
        "intake:li", None, "complaint-C-1", None, NOW, NOW, bytes(32), bytes(32),
    )  # fmt: skip


def test_audit_views_mask_the_ciphertext():
    text, _ = sealed()
    data = {"complaint_id": "C-1", "complainant_ciphertext": text}
    state = evolve(State(), recorded({**data, "complainant_ref": "P-1"}))
    assert state.fields["complainant_ciphertext"] == MASK
    assert state.fields["complainant_ref"] == "P-1"


def test_a_read_is_refused_once_erased_and_erasing_twice_changes_nothing():
    state = complainant.fold([])
    (erased,) = complainant.erase(state, "C-1", "cli:ops", "申请删除", NOW)
    assert erased.correlation_id == "complaint-C-1" and erased.data == {
        "complaint_id": "C-1"
    }
    state = complainant.evolve(state, erased)
    assert complainant.erase(state, "C-1", "cli:ops", None, NOW) == []
    with pytest.raises(complainant.Erased, match="P-1 was erased"):
        complainant.read(state, "P-1", "C-1", "intake:li", "回访", NOW, "api")


def test_notify_plans_nothing_for_an_erased_complainant():
    reach = {"channel": "12345", "anonymous": False, "phone": True, "email": True}
    assert rules.complainant_channels(("contact",), reach) == ["sms"]
    erased = {**reach, "erased": True}
    assert rules.complainant_channels(("contact", "sms"), erased) == []


# ---- one key per person: the blind index -------------------------------------------


def test_the_blind_index_finds_a_phone_or_email_however_it_is_written():
    ring = Keyring(MASTER)
    phone = ring.blind("binhai", "phone", "13900001111")
    for same in ("+86 139-0000-1111", "0086 13900001111", " 139 0000 1111 "):
        assert ring.blind("binhai", "phone", same) == phone
    email = ring.blind("binhai", "email", "Wang@Example.com")
    assert ring.blind("binhai", "email", " wang@example.COM") == email
    assert ring.blind("binhai", "phone", "13900001112") != phone
    # Bound to its district, and to its field.
    assert ring.blind("jinghai", "phone", "13900001111") != phone
    assert ring.blind("binhai", "email", "13900001111") != phone


def test_the_blind_index_key_is_derived_never_the_master_key():
    import hashlib
    import hmac

    digest = Keyring(MASTER).blind("binhai", "phone", "13900001111")
    msg = b"phone\0binhai\x0013900001111"
    assert digest != hmac.new(MASTER, msg, hashlib.sha256).digest()
    assert Keyring(bytes(32)).blind("binhai", "phone", "13900001111") != digest
    assert Keyring(MASTER).blind_indexes("binhai", WANG) == [digest]  # no email


def test_a_second_complaint_is_sealed_under_the_same_persons_key():
    ring = Keyring(MASTER)
    first, key = sealed()
    other = {**WANG, "address": "海河东路1号"}
    second = ring.seal_with("binhai", key, other)
    assert second != first
    assert ring.open("binhai", second, key) == other
    assert ring.open("binhai", first, key) == WANG


def test_a_wrong_master_key_or_altered_text_is_unreadable_never_another_error():
    text, key = sealed()
    with pytest.raises(Unreadable, match="cannot be decrypted with the configured"):
        Keyring(bytes(32)).open("binhai", text, key)
    with pytest.raises(Unreadable, match="cannot be decrypted with the configured"):
        Keyring(bytes(32)).seal_with("binhai", key, WANG)
    for broken in (text[:-1], text + "A", text[:20] + "!" + text[21:]):
        with pytest.raises(Unreadable):
            Keyring(MASTER).open("binhai", broken, key)


def test_an_unreadable_identity_is_expected_and_the_gateway_answers_503():
    from nameko.exceptions import RemoteError

    from services.complaints.service import EXPECTED
    from services.gateway.web import error_response

    assert Unreadable in EXPECTED
    r = error_response(RemoteError("Unreadable", str(Unreadable("another key"))))
    body = r.get_json()["error"]
    assert r.status_code == 503 and body["code"] == "unavailable"
    assert "cannot be decrypted with the configured key" in body["message"]


def test_rpc_with_the_complaints_service_is_transient_both_ways():
    from unittest.mock import Mock

    from nameko.amqp.publish import Publisher
    from nameko.rpc import Rpc

    from eventlog.transient import TransientResponder, TransientRpc
    from services.complaints.service import Complaints
    from services.gateway.service import Gateway
    from services.notify.service import Notify

    ctx = Mock()
    ctx.container.config = {"AMQP_URI": "memory://"}
    for proxy in (Gateway.complaints, Notify.complaints):
        method = proxy.get_dependency(ctx).receive
        assert method.publisher.delivery_mode == 1  # requests
    assert Publisher("memory://").delivery_mode == 2  # nameko's default
    rpcs = [
        ep
        for name in dir(Complaints)
        for ep in getattr(getattr(Complaints, name), "nameko_entrypoints", ())
        if isinstance(ep, Rpc)
    ]
    assert rpcs and all(isinstance(ep, TransientRpc) for ep in rpcs)  # replies
    assert TransientResponder.publisher_cls("memory://").delivery_mode == 1
