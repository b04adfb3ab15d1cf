"""The audit's reading of events: every type has a meaning in Chinese, a summary that
renders whatever fields an event lacks, and a state fold that masks the complainant."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

import contracts  # noqa: F401 (registers every type)
from contracts.registry import REGISTRY
from eventlog import canonical
from eventlog.model import RecordedEvent
from services.audit import summaries
from services.audit import timeline as tl

TYPES = sorted({t for t, _ in REGISTRY.schemas})


@pytest.mark.parametrize("event_type", TYPES)
def test_every_event_type_has_a_chinese_label_and_a_summary(event_type):
    assert event_type in summaries.MEANINGS
    label = summaries.label(event_type)
    assert label != event_type and not label.isascii()
    assert isinstance(summaries.summary(event_type, {}, {}), str)


def test_a_summary_names_units_by_their_directory_name():
    text = summaries.summary(
        "ComplaintDispatched",
        {"unit": "approvals", "time_limit": {"days": 15, "working": True}},
        {"approvals": "区行政审批局"},
    )
    assert text == "交办至区行政审批局，办理时限15个工作日"


def test_the_exemption_status_depends_on_the_outcome():
    assert summaries.status_after("CaseExemptionAssessed", {"outcome": "exempt"}, "x")
    assert (
        summaries.status_after("CaseExemptionAssessed", {"outcome": "refused"}, "inv")
        == "inv"
    )
    assert summaries.status_after("ComplaintUrged", {}, "in_progress") == "in_progress"


def recorded(stream, version, type_, data, prev=canonical.GENESIS, position=None):
    now = datetime(2026, 10, 1, tzinfo=UTC)
    fields = dict(
        event_id=uuid4(),
        stream_id=stream,
        stream_version=version,
        district="binhai",
        type=type_,
        schema_version=1,
        data=data,
        actor="intake:li",
        reason=None,
        correlation_id=stream,
        causation_id=None,
        occurred_at=now,
        recorded_at=now,
    )
    digest = canonical.chain(prev, canonical.encode(canonical.hashed_fields(**fields)))
    return RecordedEvent(
        position=position or version, tx_id=1, prev_hash=prev, hash=digest, **fields
    )


def test_the_fold_masks_the_complainant_and_shows_what_changed():
    first = recorded(
        "complaint-C1",
        1,
        "ComplaintReceived",
        {"complaint_id": "C1", "complainant": {"name": "王五"}, "unit": None},
    )
    second = recorded(
        "complaint-C1", 2, "ComplaintDispatched", {"unit": "approvals"}, first.hash
    )
    entries = tl.timeline([first, second], {"complaint-C1": [first, second]}, {})
    assert entries[0]["changes"][0] == {
        "field": "status",
        "before": None,
        "after": "received",
    }
    assert {"field": "complainant", "before": None, "after": "（保密）"} in entries[0][
        "changes"
    ]
    assert entries[1]["changes"] == [
        {"field": "status", "before": "received", "after": "dispatched"},
        {"field": "unit", "before": None, "after": "approvals"},
    ]
    assert all(e["verified"] for e in entries)
    assert "王五" not in str(entries)


def test_an_entry_whose_chain_breaks_says_why():
    first = recorded("complaint-C2", 1, "ComplaintReceived", {})
    second = recorded("complaint-C2", 2, "ComplaintAccepted", {})  # wrong prev hash
    entries = tl.timeline([first, second], {"complaint-C2": [first, second]}, {})
    assert entries[0]["verified"] is True
    assert entries[1]["verified"] is False
    assert entries[1]["problem"] == "previous hash does not match the preceding event"
