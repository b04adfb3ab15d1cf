"""Which outcome of a send the notification's stream records, when two senders' leases
overlapped and both report (services/notify/sender.py, `outcome`)."""

from datetime import datetime
from types import SimpleNamespace

from eventlog.deadlines import TZ
from eventlog.model import NewEvent
from services.notify.sender import outcome, progress

NOW = datetime(2026, 9, 14, 10, 0, tzinfo=TZ)


def stream(*events: tuple[str, dict]) -> list:
    return [SimpleNamespace(type=type_, data=data) for type_, data in events]


def sent(attempt: int) -> NewEvent:
    data = {"channel": "sms", "attempt": attempt}
    return NewEvent("NotificationSent", data, actor="system:notify", occurred_at=NOW)


def failed(attempt: int) -> NewEvent:
    data = {"channel": "sms", "attempt": attempt, "error": "http 503"}
    data["retry_at"] = NOW.isoformat()
    return NewEvent("NotificationFailed", data, actor="system:notify", occurred_at=NOW)


QUEUED = ("NotificationQueued", {"channel": "sms"})


def test_the_first_outcome_of_an_attempt_is_recorded():
    state = progress(stream(QUEUED))
    event = sent(1)
    assert outcome(state, event, 1) == [event]
    assert [e.type for e in outcome(state, failed(1), 1)] == ["NotificationFailed"]


def test_nothing_is_recorded_after_sent_not_even_a_second_sent():
    state = progress(stream(QUEUED, ("NotificationSent", {"attempt": 1})))
    assert outcome(state, sent(1), 1) == []
    assert outcome(state, failed(1), 1) == []


def test_nothing_is_recorded_after_abandoned():
    state = progress(stream(QUEUED, ("NotificationAbandoned", {"attempts": 5})))
    assert outcome(state, sent(5), 5) == []


def test_a_late_failure_of_an_attempt_on_record_is_dropped():
    state = progress(stream(QUEUED, ("NotificationFailed", {"attempt": 1})))
    assert outcome(state, failed(1), 1) == []
    assert [e.type for e in outcome(state, failed(2), 2)] == ["NotificationFailed"]


def test_a_late_sent_after_the_other_senders_failure_is_recorded_the_message_went():
    state = progress(stream(QUEUED, ("NotificationFailed", {"attempt": 1})))
    assert [e.type for e in outcome(state, sent(1), 1)] == ["NotificationSent"]


def test_an_unknown_notification_records_nothing():
    assert outcome(progress([]), sent(1), 1) == []
