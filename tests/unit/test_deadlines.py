"""Deadlines on China's official calendar, told with real holiday arrangements.

The dates follow the State Council's notices, as carried by chinesecalendar 1.11.0:
- Spring Festival 2026: rest Feb 15-23; make-up workdays Sat Feb 14 and Sat Feb 28.
- National Day and Mid-Autumn 2025: rest Oct 1-8; make-up workdays Sun Sep 28 and
  Sat Oct 11.
- Mid-Autumn 2026: rest Sep 25-27. National Day 2026: rest Oct 1-7; make-up workdays
  Sun Sep 20 and Sat Oct 10.
- New Year 2026: rest Jan 1-3; make-up workday Sun Jan 4.
2027 is not published in the package: any 2027 arrangement below is made up.
"""

import pickle
from datetime import UTC, date, datetime, time, timedelta

import pytest

from contracts.vocabulary import KINDS
from eventlog.deadlines import (
    DEFAULT_LIMITS,
    TZ,
    OfficialCalendar,
    TimeLimit,
    UnknownYear,
    add_days,
    count_days,
    due_at,
    limit_for,
    limits_from,
    load_supplement,
    reminder_at,
)

CAL = OfficialCalendar()
WORKING, CALENDAR = True, False


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=TZ)


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


# Spring Festival 2026


def test_a_saturday_make_up_day_counts_as_a_working_day():
    assert add_days(CAL, date(2026, 2, 13), 1, WORKING) == date(2026, 2, 14)


def test_working_days_skip_the_spring_festival_but_count_its_make_up_days():
    # Feb 13, Feb 14 (make-up), then nothing until Feb 24, 25, 26
    assert add_days(CAL, date(2026, 2, 12), 5, WORKING) == date(2026, 2, 26)


def test_a_complaint_signed_before_the_festival_is_due_three_weeks_later():
    # 15 working days: 2 before the festival, 5 after it (Sat Feb 28 included), 8 more
    assert add_days(CAL, date(2026, 2, 12), 15, WORKING) == date(2026, 3, 11)


def test_calendar_days_ending_in_the_festival_end_on_the_first_day_back():
    assert add_days(CAL, date(2026, 2, 12), 5, CALENDAR) == date(2026, 2, 24)
    # a 30-day report limit from Jan 16 would end on Feb 15, the first day of rest
    assert add_days(CAL, date(2026, 1, 16), 30, CALENDAR) == date(2026, 2, 24)


def test_calendar_days_ending_on_a_make_up_day_end_there():
    assert add_days(CAL, date(2026, 1, 29), 16, CALENDAR) == date(2026, 2, 14)


def test_the_festival_holds_only_two_working_days_from_the_13th_to_the_24th():
    assert count_days(CAL, date(2026, 2, 13), date(2026, 2, 24), WORKING) == 2
    assert count_days(CAL, date(2026, 2, 14), date(2026, 2, 23), WORKING) == 0
    assert count_days(CAL, date(2026, 2, 13), date(2026, 2, 24), CALENDAR) == 11


def test_a_deadline_right_after_the_festival_is_reminded_before_it():
    assert reminder_at(CAL, end_of(date(2026, 2, 24))) == shanghai(2026, 2, 14)
    assert reminder_at(CAL, end_of(date(2026, 2, 26))) == shanghai(2026, 2, 25)


# National Day 2025 and 2026


def test_a_sunday_make_up_day_before_national_day_2025_counts():
    assert add_days(CAL, date(2025, 9, 26), 1, WORKING) == date(2025, 9, 28)


def test_working_days_jump_the_eight_days_of_national_day_2025():
    assert add_days(CAL, date(2025, 9, 29), 3, WORKING) == date(2025, 10, 10)
    assert add_days(CAL, date(2025, 9, 29), 4, WORKING) == date(2025, 10, 11)
    assert count_days(CAL, date(2025, 9, 30), date(2025, 10, 12), WORKING) == 3


def test_one_calendar_day_into_national_day_2025_ends_on_october_9():
    assert add_days(CAL, date(2025, 9, 30), 1, CALENDAR) == date(2025, 10, 9)


def test_national_day_2025_reminder_goes_out_before_the_holiday():
    assert reminder_at(CAL, end_of(date(2025, 10, 9))) == shanghai(2025, 9, 30)


def test_2026_mid_autumn_and_national_day_with_their_make_up_days():
    assert add_days(CAL, date(2026, 9, 19), 1, WORKING) == date(2026, 9, 20)
    assert add_days(CAL, date(2026, 9, 24), 1, WORKING) == date(2026, 9, 28)
    assert add_days(CAL, date(2026, 9, 30), 3, WORKING) == date(2026, 10, 10)
    assert reminder_at(CAL, end_of(date(2026, 10, 8))) == shanghai(2026, 9, 30)


# Ordinary weeks and the turn of the year


def test_working_days_skip_a_plain_weekend():
    assert add_days(CAL, date(2026, 3, 6), 1, WORKING) == date(2026, 3, 9)
    assert add_days(CAL, date(2026, 3, 7), 1, WORKING) == date(2026, 3, 9)


def test_calendar_days_ending_on_a_weekend_end_on_monday():
    assert add_days(CAL, date(2026, 3, 5), 2, CALENDAR) == date(2026, 3, 9)
    assert add_days(CAL, date(2026, 3, 5), 1, CALENDAR) == date(2026, 3, 6)


def test_working_days_cross_new_year_onto_a_sunday_make_up_day():
    assert add_days(CAL, date(2025, 12, 31), 1, WORKING) == date(2026, 1, 4)
    assert add_days(CAL, date(2025, 12, 31), 2, WORKING) == date(2026, 1, 5)


def test_a_monday_deadline_is_reminded_on_friday():
    assert reminder_at(CAL, end_of(date(2026, 3, 9))) == shanghai(2026, 3, 6)


def test_count_is_zero_when_the_end_is_not_after_the_start():
    assert count_days(CAL, date(2026, 3, 9), date(2026, 3, 9), WORKING) == 0
    assert count_days(CAL, date(2026, 3, 9), date(2026, 3, 2), CALENDAR) == 0


def test_a_limit_counts_at_least_one_day():
    with pytest.raises(ValueError, match="at least 1"):
        add_days(CAL, date(2026, 3, 9), 0, WORKING)


# due_at: the end of the last day, in Shanghai


def test_due_at_is_the_last_moment_of_the_last_day_in_shanghai():
    due = due_at(CAL, shanghai(2026, 2, 12, 9, 30), TimeLimit(15))
    assert due == datetime(2026, 3, 11, 23, 59, 59, 999999, tzinfo=TZ)
    assert due.tzinfo is TZ and due.utcoffset() == timedelta(hours=8)


def test_a_late_evening_start_in_utc_is_already_the_next_day_in_shanghai():
    friday_evening = datetime(2026, 2, 13, 15, 59, tzinfo=UTC)  # 23:59 Fri, Shanghai
    saturday_night = datetime(2026, 2, 13, 17, 30, tzinfo=UTC)  # 01:30 Sat, Shanghai
    assert due_at(CAL, friday_evening, TimeLimit(1)) == end_of(date(2026, 2, 14))
    assert due_at(CAL, saturday_night, TimeLimit(1)) == end_of(date(2026, 2, 24))


def test_extra_days_count_in_the_limits_own_unit():
    start = shanghai(2026, 2, 12, 10)
    assert due_at(CAL, start, TimeLimit(15), 2) == end_of(date(2026, 3, 13))
    report = TimeLimit(30, working=False)
    assert due_at(CAL, shanghai(2026, 1, 14), report) == end_of(date(2026, 2, 13))
    assert due_at(CAL, shanghai(2026, 1, 14), report, 2) == end_of(date(2026, 2, 24))


def test_due_at_refuses_a_naive_start_and_negative_extra_days():
    with pytest.raises(ValueError, match="no time zone"):
        due_at(CAL, datetime(2026, 3, 2, 9), TimeLimit(3))
    with pytest.raises(ValueError, match="negative"):
        due_at(CAL, shanghai(2026, 3, 2), TimeLimit(3), -1)


def test_a_reminder_for_a_deadline_given_in_utc_uses_the_shanghai_day():
    due = end_of(date(2026, 2, 24)).astimezone(UTC)  # 15:59 UTC on Feb 24
    assert reminder_at(CAL, due) == shanghai(2026, 2, 14)


# Unknown years


def test_a_year_the_package_does_not_know_is_an_error_not_a_guess():
    with pytest.raises(UnknownYear, match="2027") as caught:
        CAL.is_workday(date(2027, 1, 4))
    assert caught.value.year == 2027
    assert "deploy/calendar.yml" in str(caught.value)
    with pytest.raises(UnknownYear, match="2003"):
        CAL.is_workday(date(2003, 12, 31))


def test_every_calculation_reaching_into_2027_raises_unknown_year():
    with pytest.raises(UnknownYear, match="2027"):
        add_days(CAL, date(2026, 12, 28), 4, WORKING)
    with pytest.raises(UnknownYear, match="2027"):
        add_days(CAL, date(2026, 12, 28), 5, CALENDAR)
    with pytest.raises(UnknownYear, match="2027"):
        count_days(CAL, date(2026, 12, 28), date(2027, 1, 4), WORKING)
    with pytest.raises(UnknownYear, match="2027"):
        due_at(CAL, shanghai(2026, 12, 28), TimeLimit(4))
    with pytest.raises(UnknownYear, match="2027"):
        reminder_at(CAL, end_of(date(2027, 1, 5)))


def test_a_limit_ending_before_new_year_does_not_need_the_new_year():
    assert add_days(CAL, date(2026, 12, 28), 3, WORKING) == date(2026, 12, 31)
    assert count_days(CAL, date(2026, 12, 28), date(2027, 1, 4), CALENDAR) == 7


def test_unknown_year_survives_pickling():
    copy = pickle.loads(pickle.dumps(UnknownYear(2027)))
    assert copy.year == 2027 and "2027" in str(copy)


def test_is_workday_refuses_a_datetime():
    with pytest.raises(TypeError):
        CAL.is_workday(datetime(2026, 3, 2, 9))


# The supplement: years published after the package (made-up 2027 arrangement)

MADE_UP_2027 = {
    2027: {
        "holidays": [date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)],
        "workdays": [date(2027, 2, 7)],
    }
}


def test_a_supplement_makes_2027_known():
    cal = OfficialCalendar(MADE_UP_2027)
    assert cal.knows(2027) and not CAL.knows(2027)
    assert not cal.is_workday(date(2027, 1, 1))  # a listed holiday
    assert cal.is_workday(date(2027, 2, 7))  # a listed Sunday make-up day
    assert not cal.is_workday(date(2027, 2, 6))  # a plain Saturday
    assert cal.is_workday(date(2027, 1, 5))  # a plain Tuesday
    assert add_days(cal, date(2026, 12, 28), 4, WORKING) == date(2027, 1, 4)


def test_a_supplement_overrides_single_days_of_a_known_year():
    cal = OfficialCalendar({2026: {"holidays": [date(2026, 3, 2)]}})
    assert not cal.is_workday(date(2026, 3, 2))
    assert cal.is_workday(date(2026, 2, 14))  # the package's make-up day stands
    assert not cal.is_workday(date(2026, 2, 16))  # and its holidays too


def test_a_year_outside_the_package_must_list_its_holidays():
    with pytest.raises(ValueError, match="2027: list the year's holidays"):
        OfficialCalendar({2027: {"workdays": [date(2027, 2, 7)]}})


def test_load_supplement_reads_dates_from_yaml(tmp_path):
    path = tmp_path / "calendar.yml"
    path.write_text(
        "# published 2026-11 (made up for this test)\n"
        "2027:\n"
        "  holidays: [2027-01-01, 2027-01-02, 2027-01-03]\n"
        "  workdays: [2027-02-07]\n"
    )
    assert load_supplement(path) == MADE_UP_2027
    assert OfficialCalendar(load_supplement(path)).is_workday(date(2027, 2, 7))


def test_an_empty_supplement_file_adds_nothing(tmp_path):
    path = tmp_path / "calendar.yml"
    path.write_text("# nothing published yet\n")
    assert load_supplement(path) == {}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2027: {holidays: [2028-01-01]}", "2027 holidays: 2028-01-01 is not in 2027"),
        ("2027: {holidays: [new year]}", "'new year' is not a date"),
        ("2027: {holidays: ['2027-01-01']}", "'2027-01-01' is not a date"),
        ("2027: {holidays: [2027-01-01 10:00:00]}", "is not a date"),
        ("2027: {holidays: [2027-02-30]}", "impossible date"),
        ("2027: {holidays: 2027-01-01}", "expected a list of dates"),
        ("2027: {holiday: [2027-01-01]}", "2027: expected {holidays"),
        ("2027:\n", "2027: expected {holidays"),
        ("'2027': {holidays: [2027-01-01]}", "'2027' is not a year"),
        ("- 2027-01-01\n", "expected a mapping of years"),
        (
            "2027: {holidays: [2027-01-01], workdays: [2027-01-01]}",
            "2027-01-01 is listed as holiday and as workday",
        ),
        ("2027: {holidays: [", "not valid YAML at line 1"),
    ],
)
def test_a_bad_supplement_is_refused_in_one_line_naming_the_file(
    tmp_path, text, problem
):
    path = tmp_path / "calendar.yml"
    path.write_text(text)
    with pytest.raises(ValueError) as caught:
        load_supplement(path)
    message = str(caught.value)
    assert problem in message and str(path) in message and "\n" not in message


# Time limits per kind


def test_the_default_limits():
    assert DEFAULT_LIMITS == {
        "consultation": TimeLimit(3, working=True),
        "help_request": TimeLimit(5, working=True),
        "complaint": TimeLimit(15, working=True),
        "report": TimeLimit(30, working=False),
        "urgent": TimeLimit(1, working=False),
    }
    assert set(KINDS) <= set(DEFAULT_LIMITS)


def test_a_districts_table_overrides_some_kinds_and_keeps_the_rest():
    limits = limits_from({"complaint": {"days": 10, "working": True}})
    assert limits["complaint"] == TimeLimit(10)
    assert limits["report"] == DEFAULT_LIMITS["report"]
    assert limits_from(None) == DEFAULT_LIMITS
    assert limits_from({"urgent": TimeLimit(2)})["urgent"] == TimeLimit(2)


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"complaint": {"days": 0, "working": True}}, "'complaint'.*above 0"),
        ({"complaint": {"days": -3, "working": True}}, "'complaint'.*above 0"),
        ({"report": {"days": "30", "working": False}}, "'report'.*whole number"),
        ({"report": {"days": 1.5, "working": False}}, "'report'.*whole number"),
        ({"report": {"days": True, "working": False}}, "'report'.*whole number"),
        ({"report": {"days": 20}}, "'report': expected"),
        ({"report": {"days": 20, "working": "yes"}}, "'report'.*true or false"),
        ({"report": {"days": 20, "working": True, "x": 1}}, "'report': expected"),
        ({"report": 20}, "'report': expected"),
        ({"complant": {"days": 10, "working": True}}, "unknown kind 'complant'"),
    ],
)
def test_a_bad_limit_table_is_refused_naming_the_kind(table, problem):
    with pytest.raises(ValueError, match=problem):
        limits_from(table)


def test_urgent_overrides_the_kind():
    limits = limits_from({"urgent": {"days": 2, "working": True}})
    assert limit_for(limits, "complaint", urgent=False) == TimeLimit(15)
    assert limit_for(limits, "complaint", urgent=True) == TimeLimit(2)
    assert limit_for(DEFAULT_LIMITS, "report", urgent=True) == TimeLimit(1, False)


def test_an_unknown_kind_is_refused_even_when_urgent():
    with pytest.raises(ValueError, match="unknown complaint kind 'petition'"):
        limit_for(DEFAULT_LIMITS, "petition", urgent=True)


def test_an_urgent_matter_due_on_a_saturday_is_due_on_monday():
    urgent = limit_for(DEFAULT_LIMITS, "complaint", urgent=True)
    friday = shanghai(2026, 3, 6, 16)
    assert due_at(CAL, friday, urgent) == end_of(date(2026, 3, 9))
