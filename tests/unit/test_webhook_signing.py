"""Standard Webhooks signatures, the retry schedule, deliveries' rules and secrets."""

import base64
from datetime import UTC, datetime, timedelta

import pytest

from eventlog.model import Actor, RecordedEvent
from services.notify import webhooks_domain as d
from services.notify.webhooks import delivery_id
from services.notify.webhooks_secrets import Sealer, SecretUnavailable
from services.notify.webhooks_signing import (
    BadSignature,
    backoff,
    format_secret,
    headers,
    sign,
    verify,
)

# The specification's libraries' own example (standard-webhooks, python tests).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specifications_example_signs_to_its_signature():
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE
    # The prefix is optional for the key.
    assert sign(SPEC_SECRET.removeprefix("whsec_"), SPEC_ID, SPEC_TS, SPEC_BODY) == (
        SPEC_SIGNATURE
    )


def test_a_signed_request_verifies_and_any_tampering_fails():
    got = headers(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY)
    verify(SPEC_SECRET, got, SPEC_BODY, now=SPEC_TS + 10)
    with pytest.raises(BadSignature):
        verify(SPEC_SECRET, got, b'{"test": 2432232315}', now=SPEC_TS)
    with pytest.raises(BadSignature):  # a replayed request with a new timestamp
        verify(
            SPEC_SECRET,
            {**got, "webhook-timestamp": str(SPEC_TS + 1)},
            SPEC_BODY,
            now=SPEC_TS,
        )
    with pytest.raises(BadSignature):  # another message's id
        verify(SPEC_SECRET, {**got, "webhook-id": "msg_other"}, SPEC_BODY, now=SPEC_TS)
    with pytest.raises(BadSignature):  # too old: outside the tolerance
        verify(SPEC_SECRET, got, SPEC_BODY, now=SPEC_TS + 301)
    other = format_secret(b"\x01" * 32)
    with pytest.raises(BadSignature):
        verify(other, got, SPEC_BODY, now=SPEC_TS)


def test_one_matching_signature_among_several_is_enough():
    got = headers(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY)
    other = sign(format_secret(b"\x02" * 32), SPEC_ID, SPEC_TS, SPEC_BODY)
    got["webhook-signature"] = f"{other} {got['webhook-signature']}"
    verify(SPEC_SECRET, got, SPEC_BODY, now=SPEC_TS)


def test_an_id_with_a_full_stop_is_refused():
    with pytest.raises(ValueError, match="full stop"):
        sign(SPEC_SECRET, "msg.1", SPEC_TS, SPEC_BODY)


def test_secrets_are_whsec_base64_of_32_bytes():
    secret = format_secret(bytes(range(32)))
    assert secret.startswith("whsec_")
    assert base64.b64decode(secret[6:]) == bytes(range(32))


def test_backoff_doubles_up_to_the_cap_with_bounded_jitter():
    assert [backoff(n, 30, 3600, 0.5) for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
    ]
    assert backoff(1, 30, 3600, 0.0) == pytest.approx(24)
    assert backoff(1, 30, 3600, 0.999999) == pytest.approx(36, rel=1e-4)


def test_delivery_ids_are_deterministic_per_event_and_subscription():
    a = delivery_id("6f1c0a56-1f0a-4a4e-9a63-1b2b3c4d5e6f", "W-2026-AAAAAAAA")
    assert a == delivery_id("6f1c0a56-1f0a-4a4e-9a63-1b2b3c4d5e6f", "W-2026-AAAAAAAA")
    assert a != delivery_id("6f1c0a56-1f0a-4a4e-9a63-1b2b3c4d5e6f", "W-2026-BBBBBBBB")
    assert a.startswith("msg_") and "." not in a and len(a) == 28


# ---- the delivery's rules: given events, when an outcome, then events ---------------

NOW = datetime(2026, 9, 14, 1, 0, tzinfo=UTC)
POLICY = d.Policy(max_attempts=3, base=10, cap=3600)


def recorded(events) -> list[RecordedEvent]:
    return [
        RecordedEvent(
            i,
            1,
            e.event_id,
            "delivery-msg_x",
            i,
            "binhai",
            e.type,
            1,
            e.data,
            e.actor,
            None,
            e.correlation_id,
            e.causation_id,
            NOW,
            NOW,
            b"",
            b"",
        )
        for i, e in enumerate(events, 1)
    ]


def given_scheduled():
    cmd = d.Schedule(
        "msg_x", "W-2026-AAAAAAAA", "ev-1", "ComplaintDispatched", "complaint-C-1"
    )
    return recorded(d.schedule(d.Delivery(), cmd, NOW))


def outcome(history, attempt, status, error=None):
    return d.record(
        d.fold(history), d.Outcome(attempt, status, error, 0.5), NOW, POLICY
    )


def test_a_2xx_delivers_and_every_event_names_the_source_event():
    history = given_scheduled()
    events = outcome(history, 1, 204)
    assert [e.type for e in events] == ["WebhookDelivered"]
    assert events[0].correlation_id == "complaint-C-1"
    assert events[0].causation_id == "ev-1"
    assert (
        d.schedule(
            d.fold(history + recorded(events)),
            d.Schedule("msg_x", "W", "ev-1", "T", None),
            NOW,
        )
        == []
    )  # scheduled once only


def test_failures_retry_with_backoff_then_dead_letter_after_the_limit():
    history = given_scheduled()
    first = outcome(history, 1, 500)
    assert first[0].data["next_attempt_at"] == (NOW + timedelta(seconds=10)).isoformat()
    history += recorded(first)
    history += recorded(outcome(history, 2, None, "timeout"))
    last = outcome(history, 3, 503)
    assert [e.type for e in last] == ["WebhookAttemptFailed", "WebhookDeadLettered"]
    assert last[0].data["next_attempt_at"] is None
    assert last[1].data == {
        "delivery_id": "msg_x",
        "subscription_id": "W-2026-AAAAAAAA",
        "attempts": 3,
        "cause": "exhausted",
    }


def test_410_gone_dead_letters_at_once_and_a_stale_outcome_is_ignored():
    history = given_scheduled()
    gone = outcome(history, 1, 410)
    assert gone[-1].data["cause"] == "gone"
    assert outcome(history + recorded(gone), 1, 200) == []


def test_only_a_dead_letter_can_be_resent_and_it_gets_a_fresh_budget():
    by = Actor("admin-1", "admin")
    history = given_scheduled()
    with pytest.raises(d.IllegalTransition, match="pending"):
        d.resend(d.fold(history), d.Resend(by), NOW)
    history += recorded(outcome(history, 1, 410))
    history += recorded(d.resend(d.fold(history), d.Resend(by), NOW))
    assert d.fold(history).status == "pending"
    retry = outcome(history, 2, 500)
    assert [e.type for e in retry] == ["WebhookAttemptFailed"]  # not dead yet
    history += recorded(outcome(history, 2, 200))
    with pytest.raises(d.IllegalTransition, match="delivered"):
        d.resend(d.fold(history), d.Resend(by), NOW)


# ---- secrets at rest ---------------------------------------------------------------


def test_a_sealed_secret_opens_only_with_its_key_and_for_its_subscription():
    sealer = Sealer(b"k" * 32)
    sealed = sealer.seal("W-2026-AAAAAAAA", SPEC_SECRET)
    assert SPEC_SECRET not in sealed and sealed.startswith("aesgcm:")
    assert sealer.open("W-2026-AAAAAAAA", sealed) == SPEC_SECRET
    with pytest.raises(SecretUnavailable):
        sealer.open("W-2026-BBBBBBBB", sealed)
    with pytest.raises(SecretUnavailable):
        Sealer(b"j" * 32).open("W-2026-AAAAAAAA", sealed)
    with pytest.raises(SecretUnavailable):
        Sealer(None).open("W-2026-AAAAAAAA", sealed)
