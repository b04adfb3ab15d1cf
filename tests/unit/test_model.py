from uuid import UUID

import pytest

from eventlog.model import InvalidEvent, NewEvent, check


@pytest.mark.parametrize(
    "event, problem",
    [
        (NewEvent("complaint received", {}, "op"), "type"),
        (NewEvent("Complaint.Received", {}, "op"), "type"),
        (NewEvent("ComplaintReceived", [], "op"), "data"),
        (NewEvent("ComplaintReceived", {}, ""), "actor"),
        (NewEvent("ComplaintReceived", {}, 7), "actor"),
        (NewEvent("ComplaintReceived", {}, "op", reason=3), "reason"),
        (NewEvent("ComplaintReceived", {}, "op", schema_version="1"), "schema_version"),
        (
            NewEvent("ComplaintReceived", {}, "op", schema_version=True),
            "schema_version",
        ),
        (NewEvent("ComplaintReceived", {}, "op", correlation_id=5), "correlation_id"),
        (NewEvent("ComplaintReceived", {}, "op", event_id="x"), "event_id"),
    ],
)
def test_malformed_events_are_named(event, problem):
    with pytest.raises(InvalidEvent, match=problem):
        check(event)


def test_a_uuid_is_normalised():
    event = NewEvent(
        "ComplaintReceived", {}, "op", event_id="6F9619FF-8B86-D011-B42D-00C04FC964FF"
    )
    assert check(event).event_id == UUID("6f9619ff-8b86-d011-b42d-00c04fc964ff")


@pytest.mark.parametrize("year", [1, 1899, 9001, 9999])
def test_times_outside_1900_to_9000_are_refused(year):
    from datetime import UTC, datetime

    event = NewEvent(
        "ComplaintReceived", {}, "op", occurred_at=datetime(year, 6, 1, tzinfo=UTC)
    )
    with pytest.raises(InvalidEvent, match="occurred_at"):
        check(event)


def test_a_type_with_a_trailing_newline_is_refused():
    with pytest.raises(InvalidEvent, match="type"):
        check(NewEvent("ComplaintReceived\n", {}, "op"))
