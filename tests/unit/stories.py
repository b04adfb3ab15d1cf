"""Given / when for decide-and-evolve aggregates, shared by the domain tests:

given = storyteller(decide, fold, CAL)
story = given((ReceiveComplaint(...), at(2, 11)), (AcceptComplaint(...), at(2, 12)))
events = story.when(SignComplaint(...), at(2, 13))
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from eventlog.deadlines import TZ
from eventlog.model import NewEvent


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in 2026, China time: the calendar the stories run on."""
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=TZ)


def types(events) -> list[str]:
    return [e.type for e in events]


def storyteller(decide, fold, calendar):
    @dataclass
    class Story:
        history: list[NewEvent]

        @property
        def state(self):
            return fold(self.history)

        def when(self, cmd, now: datetime) -> list[NewEvent]:
            return decide(self.state, cmd, now, calendar)

    def given(*steps: tuple[object, datetime]) -> Story:
        """Each (command, moment) is decided on the state so far; its events kept."""
        history: list[NewEvent] = []
        for cmd, now in steps:
            history += decide(fold(history), cmd, now, calendar)
        return Story(history)

    return given
