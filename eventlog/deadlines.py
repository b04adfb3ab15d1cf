"""Legal time limits on China's official calendar (法定工作日 and 自然日).

Pure: the calendar and every moment are passed in; nothing here reads a clock.
Counting follows Chinese administrative law: the day the clock starts is not counted,
and a limit in calendar days that ends on a rest day ends on the next working day
(期间届满的最后一日是法定节假日的，以节假日后的第一日为期间届满的日期).
A day in a year nobody has told us about raises UnknownYear: a guessed deadline
would be a wrong deadline.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml

from contracts.vocabulary import KINDS

TZ = ZoneInfo("Asia/Shanghai")
SUPPLEMENT_FILE = "deploy/calendar.yml"
URGENT = "urgent"
_DAY = timedelta(days=1)
# The package refuses any year outside the span of its own holiday table; asking it
# only inside that span keeps its NotImplementedError from ever reaching a caller.
_PACKAGE_YEARS = range(
    min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1
)


class UnknownYear(Exception):
    def __init__(self, year: int):
        super().__init__(year)  # args stay (year,) so the error pickles and copies
        self.year = year

    def __str__(self) -> str:
        return (
            f"the official calendar for {self.year} is not known yet; "
            f"add it to the calendar supplement ({SUPPLEMENT_FILE})"
        )


def _plain_date(value: object) -> bool:
    # datetime is a date subclass, but never equal to one: it would miss every lookup
    return isinstance(value, date) and not isinstance(value, datetime)


def _year_entry(year: int, entry: object) -> dict[str, list[date]]:
    if not isinstance(entry, Mapping) or not set(entry) <= {"holidays", "workdays"}:
        raise ValueError(f"{year}: expected {{holidays: [...], workdays: [...]}}")
    lists = {key: entry.get(key) or [] for key in ("holidays", "workdays")}
    for key, days in lists.items():
        if not isinstance(days, list):
            raise ValueError(f"{year} {key}: expected a list of dates")
        for day in days:
            if not _plain_date(day):
                raise ValueError(f"{year} {key}: {day!r} is not a date (YYYY-MM-DD)")
            if day.year != year:
                raise ValueError(f"{year} {key}: {day} is not in {year}")
    both = set(lists["holidays"]) & set(lists["workdays"])
    if both:
        raise ValueError(f"{year}: {min(both)} is listed as holiday and as workday")
    # A year missing from the package has no other source: an entry without holidays
    # is a placeholder, and taking it as "weekends only" would be a silent guess.
    if year not in _PACKAGE_YEARS and not lists["holidays"]:
        raise ValueError(f"{year}: list the year's holidays (no other source has it)")
    return {key: list(days) for key, days in lists.items()}  # not the caller's lists


def check_supplement(raw: object) -> dict[int, dict[str, list[date]]]:
    """The supplement, validated: {year: {"holidays": [...], "workdays": [...]}}."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError("expected a mapping of years to {holidays, workdays}")
    for year in raw:
        if isinstance(year, bool) or not isinstance(year, int):
            raise ValueError(f"{year!r} is not a year")
    return {year: _year_entry(year, entry) for year, entry in raw.items()}


def load_supplement(path: str | os.PathLike) -> dict[int, dict[str, list[date]]]:
    with open(path, encoding="utf-8") as file:
        text = file.read()
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).split("\n")[0]
        raise ValueError(f"{path}: not valid YAML{where}: {problem}") from None
    except ValueError as error:  # the loader builds dates itself: 2027-02-30 fails
        raise ValueError(f"{path}: an impossible date ({error})") from None
    try:
        return check_supplement(raw)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


class OfficialCalendar:
    """Working days per the chinesecalendar package, plus a supplement for years
    published after the installed package (the State Council announces each year
    around November) and for corrections of single days."""

    def __init__(self, supplement: Mapping[int, Mapping] | None = None):
        self._years = check_supplement(supplement)
        self._rest = {d for e in self._years.values() for d in e["holidays"]}
        self._work = {d for e in self._years.values() for d in e["workdays"]}

    def knows(self, year: int) -> bool:
        return year in self._years or year in _PACKAGE_YEARS

    def is_workday(self, day: date) -> bool:
        if not _plain_date(day):
            raise TypeError(f"expected a date, not {day!r}")
        if day in self._work or day in self._rest:
            return day in self._work
        # For a year the package knows, the supplement only corrects the days it lists.
        if day.year in _PACKAGE_YEARS:
            return chinese_calendar.is_workday(day)
        if day.year in self._years:
            return day.weekday() < 5
        raise UnknownYear(day.year)


@dataclass(frozen=True)
class TimeLimit:
    days: int
    working: bool = True  # working days (工作日), else calendar days (自然日)

    def __post_init__(self) -> None:
        if isinstance(self.days, bool) or not isinstance(self.days, int):
            raise ValueError(f"days must be a whole number, not {self.days!r}")
        if self.days <= 0:
            raise ValueError(f"days must be above 0, not {self.days}")
        if not isinstance(self.working, bool):
            raise ValueError(f"working must be true or false, not {self.working!r}")


# Used wherever a district's own rule table says nothing about a kind.
DEFAULT_LIMITS: dict[str, TimeLimit] = {
    "consultation": TimeLimit(3),
    "help_request": TimeLimit(5),
    "complaint": TimeLimit(15),
    "report": TimeLimit(30, working=False),
    URGENT: TimeLimit(1, working=False),
}


def _limit(kind: str, entry: object) -> TimeLimit:
    if isinstance(entry, TimeLimit):
        return entry
    # Both keys are required: "days: 20" alone could mean either unit, and the
    # two differ by weeks over a holiday.
    if not isinstance(entry, Mapping) or set(entry) != {"days", "working"}:
        raise ValueError(f"time limit for {kind!r}: expected {{days, working}}")
    try:
        return TimeLimit(entry["days"], entry["working"])
    except ValueError as error:
        raise ValueError(f"time limit for {kind!r}: {error}") from None


def limits_from(mapping: Mapping | None) -> dict[str, TimeLimit]:
    """A district's rule table over the defaults; a typo'd kind is an error, not a
    silent fallback to the default."""
    limits = dict(DEFAULT_LIMITS)
    for kind, entry in (mapping or {}).items():
        if kind not in DEFAULT_LIMITS:
            known = ", ".join(DEFAULT_LIMITS)
            raise ValueError(f"time limit for unknown kind {kind!r}; known: {known}")
        limits[kind] = _limit(kind, entry)
    return limits


def limit_for(limits: Mapping[str, TimeLimit], kind: str, urgent: bool) -> TimeLimit:
    if kind not in KINDS:
        raise ValueError(f"unknown complaint kind {kind!r}; known: {', '.join(KINDS)}")
    return limits[URGENT if urgent else kind]


def add_days(calendar: OfficialCalendar, start: date, days: int, working: bool) -> date:
    """The day a limit of `days` counted from `start` (not itself counted) ends."""
    if days < 1:
        raise ValueError(f"a limit counts at least 1 day, not {days}")
    if not working:
        end = start + timedelta(days=days)
        while not calendar.is_workday(end):
            end += _DAY
        return end
    day = start
    while days:
        day += _DAY
        if calendar.is_workday(day):
            days -= 1
    return day


def count_days(
    calendar: OfficialCalendar, start: date, end: date, working: bool
) -> int:
    """How many (working) days lie in (start, end]."""
    if end <= start:
        return 0
    span = (end - start).days
    if not working:
        return span
    return sum(calendar.is_workday(start + n * _DAY) for n in range(1, span + 1))


def _local_date(moment: datetime) -> date:
    if moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone; cannot place it")
    return moment.astimezone(TZ).date()


def due_at(
    calendar: OfficialCalendar, start: datetime, limit: TimeLimit, extra_days: int = 0
) -> datetime:
    """The last moment of the limit's last day, in Shanghai; `extra_days` (approved
    extensions, paused days) count in the limit's own unit."""
    if extra_days < 0:
        raise ValueError(f"extra days cannot be negative, not {extra_days}")
    days = limit.days + extra_days
    last = add_days(calendar, _local_date(start), days, limit.working)
    return datetime.combine(last, time.max, tzinfo=TZ)


def reminder_at(calendar: OfficialCalendar, due: datetime) -> datetime:
    """Midnight starting the last working day before the deadline's day."""
    day = _local_date(due) - _DAY
    while not calendar.is_workday(day):
        day -= _DAY
    return datetime.combine(day, time.min, tzinfo=TZ)


def local_iso(value):
    """A time as the districts read it, China Standard Time with its offset; any
    other value unchanged (read-model rows mix times with everything else)."""
    return value.astimezone(TZ).isoformat() if isinstance(value, datetime) else value
