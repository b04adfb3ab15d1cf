"""Campaigns and rectification issues told as stories: given these commands (each
decided and folded in turn), when this command at this moment, then these events or
this error.

Every moment is in Shanghai, in 2026, on the real official calendar
(chinesecalendar 1.11.0). The days the stories lean on:
- Sun Sep 20 is a make-up workday; Sat Sep 19 rests.
- Fri Sep 25 (Mid-Autumn) and the weekend Sep 26-27 rest.
- National Day: Oct 1-7 rest; Sat Oct 10 is a make-up workday; Sun Oct 11 rests.
"""

import json
import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

import contracts.issues  # noqa: F401  (registers the issues events)
from contracts.issues import STATUSES
from contracts.registry import REGISTRY
from eventlog.deadlines import OfficialCalendar, TimeLimit, add_days, due_at
from eventlog.model import NewEvent
from services.issues.domain import (
    SYSTEM,
    Actor,
    AnswerSuggestion,
    DomainError,
    IllegalTransition,
    Invalid,
    Issue,
    LaunchCampaign,
    MarkOverdue,
    NotDue,
    NotYourUnit,
    RegisterIssue,
    ReportProgress,
    SendBack,
    SetMeasures,
    Submit,
    VerifyAndClose,
    decide,
    decide_campaign,
    evolve,
    fold,
)
from tests.unit.stories import at, end_of, storyteller, types

CAL = OfficialCalendar()
ID = "I-2026-7K3M9QXA"
CAMPAIGN_ID = "CP-2026-5D8F2H6J"
COMPLAINT_ID = "C-2026-000123"
UNIT, SUGGESTED_UNIT, OTHER_UNIT = "U-HOUSING", "U-WATER", "U-TAX"

OFFICE = Actor("office-1", "campaign_office")
SUPERVISOR = Actor("sup-1", "supervisor")
HANDLER = Actor("handler-1", "unit_handler", UNIT)
SUGGESTED_HANDLER = Actor("handler-5", "unit_handler", SUGGESTED_UNIT)
OTHER_HANDLER = Actor("handler-9", "unit_handler", OTHER_UNIT)


def d(month: int, day: int) -> date:
    return date(2026, month, day)


given = storyteller(decide, fold, CAL)


def register(**overrides) -> RegisterIssue:
    fields = {
        "id": ID,
        "campaign_id": CAMPAIGN_ID,
        "unit": UNIT,
        "list": "problem",
        "source": "self_inspection",
        "manifestation": "审批材料重复提交，群众多次跑腿",
        "by": HANDLER,
        "responsible": "李明",
        "supervisor": "王副区长",
    }
    return RegisterIssue(**(fields | overrides))


def suggest(**overrides) -> RegisterIssue:
    return register(
        **{
            "list": "suggestion",
            "source": "suggestion",
            "manifestation": "供水报装环节多，建议压缩",
            "suggested_unit": SUGGESTED_UNIT,
            **overrides,
        }
    )


def measures(by=HANDLER, **limit) -> SetMeasures:
    return SetMeasures("精简材料清单，推行一次告知", by, **limit)


SIX_WORKING_DAYS = measures(days=6)
AT_ONCE = measures(at_once=True)
PROGRESS = ReportProgress("已精简材料12项", HANDLER)
SUBMIT = Submit(("https://files.example/ev-1",), HANDLER, note="已全部整改")
RESUBMIT = Submit(("https://files.example/ev-2",), HANDLER)
SEND_BACK = SendBack("整改不彻底，仍有3项材料重复", SUPERVISOR)
CLOSE = VerifyAndClose(SUPERVISOR, note="经核查已整改到位")
ANSWER = AnswerSuggestion("采纳，拟合并报装环节", SUGGESTED_HANDLER)

# The main line: measures on Thu Sep 24, six working days over National Day.
REGISTERED = ((register(), at(9, 14)),)
MEASURED = REGISTERED + ((SIX_WORKING_DAYS, at(9, 24)),)
PROGRESSED = MEASURED + ((PROGRESS, at(9, 29)),)
SUBMITTED = PROGRESSED + ((SUBMIT, at(9, 30)),)
SENT_BACK = SUBMITTED + ((SEND_BACK, at(10, 8)),)
RESUBMITTED = SENT_BACK + ((RESUBMIT, at(10, 9)),)
CLOSED = RESUBMITTED + ((CLOSE, at(10, 10)),)
DUE = end_of(d(10, 10))  # Sep 28, 29, 30, Oct 8, 9 and the make-up Sat Oct 10

AT_ONCE_MEASURED = REGISTERED + ((AT_ONCE, at(9, 14, 11)),)
AT_ONCE_CLOSED = AT_ONCE_MEASURED + (
    (SUBMIT, at(9, 15)),
    (CLOSE, at(12, 30)),
)

SUGGESTED = ((suggest(), at(9, 14)),)
ANSWERED = SUGGESTED + ((ANSWER, at(9, 15)),)
SUGGESTION_MEASURED = ANSWERED + ((measures(SUGGESTED_HANDLER, days=6), at(9, 24)),)
SUGGESTION_CLOSED = SUGGESTION_MEASURED + (
    (ReportProgress("已合并两个环节", SUGGESTED_HANDLER), at(9, 29)),
    (Submit(("https://files.example/ev-9",), SUGGESTED_HANDLER), at(9, 30)),
    (CLOSE, at(10, 8)),
)

OVERDUE = MEASURED + ((MarkOverdue(), at(10, 11, 0)),)
LATE_CLOSED = OVERDUE + ((SUBMIT, at(10, 12)), (CLOSE, at(10, 13)))


# Campaigns --------------------------------------------------------------------

CAMPAIGN_PHASES = (
    {"phase": "mobilise", "starts_on": d(3, 1), "ends_on": d(3, 15)},
    {"phase": "self_inspect", "starts_on": d(3, 16), "ends_on": d(4, 30)},
    {
        "phase": "inspect_and_hold_accountable",
        "starts_on": d(5, 1),
        "ends_on": d(8, 31),
    },
    {"phase": "summarise", "starts_on": d(9, 1), "ends_on": d(9, 30)},
)


def launch(*phases: dict) -> LaunchCampaign:
    return LaunchCampaign(CAMPAIGN_ID, "作风建设专项整治", phases, OFFICE)


def phase(name: str, starts: date, ends: date) -> dict:
    return {"phase": name, "starts_on": starts, "ends_on": ends}


def test_a_campaign_is_launched_with_its_four_phases_as_iso_dates():
    (launched,) = decide_campaign(False, launch(*CAMPAIGN_PHASES), at(2, 27))

    assert launched.type == "CampaignLaunched"
    assert launched.actor == "campaign_office:office-1"
    assert launched.occurred_at == at(2, 27)
    assert launched.data == {
        "campaign_id": CAMPAIGN_ID,
        "name": "作风建设专项整治",
        "phases": [
            {"phase": "mobilise", "starts_on": "2026-03-01", "ends_on": "2026-03-15"},
            {
                "phase": "self_inspect",
                "starts_on": "2026-03-16",
                "ends_on": "2026-04-30",
            },
            {
                "phase": "inspect_and_hold_accountable",
                "starts_on": "2026-05-01",
                "ends_on": "2026-08-31",
            },
            {"phase": "summarise", "starts_on": "2026-09-01", "ends_on": "2026-09-30"},
        ],
    }


def test_a_phase_may_start_the_day_after_the_previous_ends_and_last_one_day():
    (launched,) = decide_campaign(
        False,
        launch(
            phase("mobilise", d(3, 1), d(3, 1)),
            phase("self_inspect", d(3, 2), d(3, 31)),
        ),
        at(2, 27),
    )

    assert [p["phase"] for p in launched.data["phases"]] == [
        "mobilise",
        "self_inspect",
    ]


@pytest.mark.parametrize(
    "names",
    [
        ("self_inspect", "mobilise"),
        ("mobilise", "summarise", "inspect_and_hold_accountable"),
        ("summarise", "self_inspect"),
        ("mobilise", "mobilise"),
        ("mobilise", "rest"),
    ],
    ids=["swapped", "summary-too-early", "backwards", "repeated", "unknown-phase"],
)
def test_phases_must_follow_the_campaign_order_once_each(names):
    phases = [
        phase(name, d(3, 1) + timedelta(days=10 * n), d(3, 5) + timedelta(days=10 * n))
        for n, name in enumerate(names)
    ]

    with pytest.raises(Invalid, match="mobilise -> self_inspect"):
        decide_campaign(False, launch(*phases), at(2, 27))


@pytest.mark.parametrize(
    "second_starts",
    [d(3, 15), d(3, 10), d(3, 1), d(2, 20)],
    ids=["on-the-last-day", "midway", "same-first-day", "before-the-first"],
)
def test_a_phase_cannot_start_before_the_previous_one_ends(second_starts):
    phases = (
        phase("mobilise", d(3, 1), d(3, 15)),
        phase("self_inspect", second_starts, d(4, 30)),
    )

    with pytest.raises(Invalid, match="self_inspect starts before mobilise ends"):
        decide_campaign(False, launch(*phases), at(2, 27))


@pytest.mark.parametrize(
    "phases",
    [
        (phase("mobilise", d(3, 15), d(3, 1)),),
        (
            phase("mobilise", d(3, 1), d(3, 15)),
            phase("self_inspect", d(3, 16), d(4, 30)),
            phase("summarise", d(9, 30), d(9, 1)),
        ),
    ],
    ids=["the-only-phase", "the-last-phase"],
)
def test_a_phase_cannot_end_before_it_starts(phases):
    with pytest.raises(Invalid, match="a phase ends before it starts"):
        decide_campaign(False, launch(*phases), at(2, 27))


def test_a_campaign_cannot_be_launched_twice():
    with pytest.raises(IllegalTransition) as refused:
        decide_campaign(True, launch(*CAMPAIGN_PHASES), at(2, 27))

    assert str(refused.value) == (
        f"campaign {CAMPAIGN_ID} exists; cannot launch it again"
    )


# Registering on the three lists -----------------------------------------------


def test_a_problem_is_registered_with_what_its_ledger_row_needs():
    (registered,) = given().when(register(), at(9, 14))

    assert registered.type == "IssueRegistered"
    assert registered.actor == "unit_handler:handler-1"
    assert registered.occurred_at == at(9, 14)
    assert registered.data == {
        "issue_id": ID,
        "campaign_id": CAMPAIGN_ID,
        "unit": UNIT,
        "list": "problem",
        "source": "self_inspection",
        "manifestation": "审批材料重复提交，群众多次跑腿",
        "responsible": "李明",
        "supervisor": "王副区长",
        "suggested_unit": None,
        "complaint_id": None,
    }
    state = fold([registered])
    assert (state.id, state.status, state.list) == (ID, "registered", "problem")
    assert state.acting_unit == UNIT
    assert state.due_at is None


def test_an_improvement_is_registered_for_the_unit_itself():
    (registered,) = given().when(
        register(list="improvement", source="inspection"), at(9, 14)
    )

    assert registered.data["list"] == "improvement"
    assert registered.data["source"] == "inspection"
    assert fold([registered]).acting_unit == UNIT


def test_a_suggestion_is_registered_for_the_unit_it_names():
    (registered,) = given().when(suggest(), at(9, 14))

    assert registered.data["list"] == "suggestion"
    assert registered.data["unit"] == UNIT
    assert registered.data["suggested_unit"] == SUGGESTED_UNIT
    state = fold([registered])
    assert (state.status, state.suggested_unit) == ("registered", SUGGESTED_UNIT)
    assert state.acting_unit == SUGGESTED_UNIT


def test_an_issue_from_a_complaint_names_the_complaint():
    (registered,) = given().when(
        register(source="complaint", complaint_id=COMPLAINT_ID, by=SYSTEM), at(9, 14)
    )

    assert registered.data["source"] == "complaint"
    assert registered.data["complaint_id"] == COMPLAINT_ID
    assert registered.actor == "system:timer"


@pytest.mark.parametrize(
    ("cmd", "message"),
    [
        (suggest(suggested_unit=None), "a suggestion names the unit it is for"),
        (suggest(suggested_unit=""), "a suggestion names the unit it is for"),
        (register(suggested_unit=SUGGESTED_UNIT), "and only a suggestion"),
        (
            register(list="improvement", suggested_unit=SUGGESTED_UNIT),
            "and only a suggestion",
        ),
        (suggest(suggested_unit=UNIT), "for another unit, not the suggesting one"),
        (register(source="complaint"), "names the complaint"),
        (register(complaint_id=COMPLAINT_ID), "names the complaint, and only it"),
        (
            suggest(complaint_id=COMPLAINT_ID),
            "names the complaint, and only it",
        ),
    ],
    ids=[
        "suggestion-without-unit",
        "suggestion-with-empty-unit",
        "problem-with-suggested-unit",
        "improvement-with-suggested-unit",
        "suggestion-to-itself",
        "complaint-without-id",
        "self-inspection-with-complaint-id",
        "suggestion-with-complaint-id",
    ],
)
def test_a_registration_that_breaks_the_list_rules_is_refused(cmd, message):
    with pytest.raises(Invalid, match=message):
        given().when(cmd, at(9, 14))


def test_an_issue_cannot_be_registered_twice():
    with pytest.raises(IllegalTransition, match=f"issue {ID} exists"):
        given(*REGISTERED).when(register(), at(9, 15))


# The main line ----------------------------------------------------------------


def test_six_working_days_from_thursday_sep_24_end_on_make_up_saturday_oct_10():
    assert add_days(CAL, d(9, 24), 6, working=True) == d(10, 10)
    assert due_at(CAL, at(9, 24), TimeLimit(6)) == DUE


def test_the_main_line_runs_from_registration_to_close():
    story = given()
    emitted = []
    for cmd, now in CLOSED:
        events = decide(fold(story.history), cmd, now, CAL)
        story.history += events
        emitted.append(types(events))

    assert emitted == [
        ["IssueRegistered"],
        ["IssueMeasuresSet"],
        ["IssueProgressReported"],
        ["IssueSubmitted"],
        ["IssueSentBack"],
        ["IssueSubmitted"],
        ["IssueClosed"],
    ]
    _, measured, progress, submitted, sent_back, resubmitted, closed = story.history
    assert measured.data == {
        "measures": "精简材料清单，推行一次告知",
        "at_once": False,
        "due_at": DUE.isoformat(),
    }
    assert progress.data == {"progress": "已精简材料12项"}
    assert submitted.data == {"evidence": ["https://files.example/ev-1"]}
    assert submitted.reason == "已全部整改"
    assert sent_back.data == {}
    assert sent_back.reason == "整改不彻底，仍有3项材料重复"
    assert resubmitted.data == {"evidence": ["https://files.example/ev-2"]}
    assert resubmitted.reason is None
    assert closed.data == {"on_time": True}
    assert closed.reason == "经核查已整改到位"
    assert story.state.status == "closed"


def test_each_event_is_signed_by_who_asked_and_dated_when_asked():
    story = given(*CLOSED)

    assert [(e.actor, e.occurred_at) for e in story.history] == [
        (str(cmd.by), now) for cmd, now in CLOSED
    ]
    assert story.history[-1].actor == "supervisor:sup-1"


@pytest.mark.parametrize(
    ("steps", "status"),
    [
        (REGISTERED, "registered"),
        (MEASURED, "rectifying"),
        (PROGRESSED, "rectifying"),
        (SUBMITTED, "submitted"),
        (SENT_BACK, "rectifying"),
        (RESUBMITTED, "submitted"),
        (CLOSED, "closed"),
        (ANSWERED, "answered"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_step_moves_the_issue_to_its_status(steps, status):
    assert given(*steps).state.status == status
    assert status in STATUSES


def test_setting_measures_with_days_starts_the_deadline_and_submitting_keeps_evidence():
    assert given(*MEASURED).state.due_at == DUE
    submitted = given(*SUBMITTED).state
    assert submitted.due_at == DUE
    assert submitted.evidence == ("https://files.example/ev-1",)
    assert given(*RESUBMITTED).state.evidence == ("https://files.example/ev-2",)


def test_progress_may_be_reported_again_after_being_sent_back():
    (progress,) = given(*SENT_BACK).when(
        ReportProgress("补充精简3项", HANDLER), at(10, 8, 15)
    )

    assert progress.data == {"progress": "补充精简3项"}


# Deadlines ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "days", "last_day"),
    [
        (at(9, 18), 1, d(9, 20)),
        (at(9, 19), 1, d(9, 20)),
        (at(9, 24), 1, d(9, 28)),
        (at(9, 30), 1, d(10, 8)),
        (at(10, 1), 1, d(10, 8)),
        (at(9, 29, 23, 59), 2, d(10, 8)),
        (at(9, 24), 6, d(10, 10)),
        (at(10, 9), 2, d(10, 12)),
        (at(9, 18), 10, d(10, 9)),
    ],
    ids=[
        "fri-to-make-up-sunday",
        "from-a-rest-day",
        "over-mid-autumn",
        "over-national-day",
        "from-a-holiday",
        "late-evening",
        "to-make-up-saturday",
        "past-make-up-saturday",
        "ten-days-over-both",
    ],
)
def test_days_count_working_days_on_the_official_calendar(now, days, last_day):
    (measured,) = given(*REGISTERED).when(measures(days=days), now)

    assert measured.data["due_at"] == end_of(last_day).isoformat()
    assert measured.data["at_once"] is False
    state = fold([*given(*REGISTERED).history, measured])
    assert state.due_at == end_of(last_day)
    assert state.due_at == due_at(CAL, now, TimeLimit(days))


def test_days_are_counted_from_the_day_in_shanghai_not_in_utc():
    # 16:30 UTC on Sat Sep 19 is 00:30 on Sun Sep 20 (a make-up workday) in Shanghai
    now = datetime(2026, 9, 19, 16, 30, tzinfo=UTC)

    (measured,) = given(*REGISTERED).when(measures(days=1), now)

    assert measured.data["due_at"] == end_of(d(9, 21)).isoformat()


@pytest.mark.parametrize(
    ("deadline", "last_day"),
    [
        (d(10, 9), d(10, 9)),
        (d(10, 3), d(10, 8)),
        (d(10, 1), d(10, 8)),
        (d(10, 7), d(10, 8)),
        (d(10, 10), d(10, 10)),
        (d(10, 11), d(10, 12)),
        (d(9, 20), d(9, 20)),
        (d(9, 19), d(9, 20)),
        (d(9, 25), d(9, 28)),
        (d(9, 26), d(9, 28)),
    ],
    ids=[
        "a-workday-stays",
        "mid-national-day",
        "first-holiday",
        "last-holiday",
        "make-up-saturday-stays",
        "sunday-after-make-up",
        "make-up-sunday-stays",
        "saturday-before-make-up-sunday",
        "mid-autumn",
        "weekend-after-mid-autumn",
    ],
)
def test_a_deadline_on_a_rest_day_moves_to_the_next_working_day(deadline, last_day):
    (measured,) = given(*REGISTERED).when(measures(deadline=deadline), at(9, 18))

    assert measured.data == {
        "measures": "精简材料清单，推行一次告知",
        "at_once": False,
        "due_at": end_of(last_day).isoformat(),
    }
    assert fold([*given(*REGISTERED).history, measured]).due_at == end_of(last_day)


@pytest.mark.parametrize(
    "deadline", [d(9, 18), d(9, 17), d(1, 1)], ids=["today", "yesterday", "long-ago"]
)
def test_a_deadline_must_be_after_today(deadline):
    with pytest.raises(Invalid, match=f"the deadline {deadline} is not after today"):
        given(*REGISTERED).when(measures(deadline=deadline), at(9, 18, 8))


def test_today_is_the_day_in_shanghai():
    # 17:00 UTC on Fri Sep 18 is already Sat Sep 19, 01:00 in Shanghai
    now = datetime(2026, 9, 18, 17, 0, tzinfo=UTC)

    with pytest.raises(Invalid, match="not after today"):
        given(*REGISTERED).when(measures(deadline=d(9, 19)), now)


def test_tomorrow_is_a_valid_deadline():
    (measured,) = given(*REGISTERED).when(measures(deadline=d(9, 19)), at(9, 18, 23))

    assert measured.data["due_at"] == end_of(d(9, 20)).isoformat()


@pytest.mark.parametrize(
    "limit",
    [
        {},
        {"at_once": False},
        {"at_once": True, "days": 5},
        {"at_once": True, "deadline": d(10, 9)},
        {"days": 5, "deadline": d(10, 9)},
        {"at_once": True, "days": 5, "deadline": d(10, 9)},
    ],
    ids=[
        "none",
        "not-at-once-alone",
        "at-once+days",
        "at-once+date",
        "days+date",
        "all",
    ],
)
def test_measures_take_exactly_one_of_at_once_days_or_deadline(limit):
    with pytest.raises(Invalid, match="exactly one of at_once, days or deadline"):
        given(*REGISTERED).when(measures(**limit), at(9, 18))


# Rectify at once (立行立改) -----------------------------------------------------


def test_rectifying_at_once_sets_no_deadline():
    story = given(*AT_ONCE_MEASURED)

    assert story.history[-1].data == {
        "measures": "精简材料清单，推行一次告知",
        "at_once": True,
        "due_at": None,
    }
    assert story.state.status == "rectifying"
    assert story.state.due_at is None


@pytest.mark.parametrize("now", [at(9, 15), at(12, 31), at(12, 31, 23, 59)])
def test_an_issue_rectified_at_once_is_never_overdue(now):
    with pytest.raises(NotDue, match=f"issue {ID} is not newly overdue"):
        given(*AT_ONCE_MEASURED).when(MarkOverdue(), now)


def test_an_issue_rectified_at_once_is_closed_on_time_however_late():
    closed = given(*AT_ONCE_CLOSED).history[-1]

    assert closed.type == "IssueClosed"
    assert closed.data == {"on_time": True}


# Closing on time ----------------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [at(10, 10), DUE, DUE + timedelta(microseconds=1), at(10, 12, 9)],
    ids=["on-the-last-day", "the-last-moment", "just-after", "days-later"],
)
def test_a_submission_made_in_time_closes_on_time_however_long_verifying_takes(now):
    """The unit is not charged with the time its supervisor takes to verify."""
    (closed,) = given(*RESUBMITTED).when(CLOSE, now)

    assert closed.data == {"on_time": True}


def test_an_overdue_issue_can_still_be_closed_late():
    story = given(*LATE_CLOSED)

    assert types(story.history)[-2:] == ["IssueSubmitted", "IssueClosed"]
    assert story.history[-1].data == {"on_time": False}
    assert story.state.status == "closed"


def test_closing_without_a_note_keeps_no_reason():
    (closed,) = given(*SUBMITTED).when(VerifyAndClose(SUPERVISOR), at(10, 8))

    assert closed.reason is None
    assert closed.data == {"on_time": True}


# Suggestions (附件3) --------------------------------------------------------------


def test_a_suggestion_is_answered_by_the_suggested_unit():
    (answered,) = given(*SUGGESTED).when(ANSWER, at(9, 15))

    assert answered.type == "IssueSuggestionAnswered"
    assert answered.data == {"answer": "采纳，拟合并报装环节"}
    assert answered.actor == "unit_handler:handler-5"


def test_a_suggestion_needs_an_answer_before_measures():
    with pytest.raises(IllegalTransition) as refused:
        given(*SUGGESTED).when(measures(SUGGESTED_HANDLER, days=6), at(9, 24))

    assert str(refused.value) == (
        f"issue {ID} is registered: the suggested unit answers first"
    )


def test_the_suggested_unit_carries_a_suggestion_through_to_close():
    story = given(*SUGGESTION_CLOSED)

    assert types(story.history) == [
        "IssueRegistered",
        "IssueSuggestionAnswered",
        "IssueMeasuresSet",
        "IssueProgressReported",
        "IssueSubmitted",
        "IssueClosed",
    ]
    assert story.history[2].data["due_at"] == DUE.isoformat()
    assert story.history[-1].data == {"on_time": True}
    assert story.state.status == "closed"


@pytest.mark.parametrize(
    ("steps", "cmd", "verb"),
    [
        (SUGGESTED, AnswerSuggestion("我们来改", HANDLER), "answer"),
        (ANSWERED, measures(HANDLER, days=6), "set measures for"),
        (SUGGESTION_MEASURED, ReportProgress("进展", HANDLER), "report progress on"),
        (SUGGESTION_MEASURED, SUBMIT, "submit"),
    ],
    ids=["answer", "set-measures", "report-progress", "submit"],
)
def test_the_suggesting_unit_cannot_act_on_its_suggestion(steps, cmd, verb):
    with pytest.raises(NotYourUnit) as refused:
        given(*steps).when(cmd, at(9, 29))

    assert str(refused.value) == (
        f"issue {ID} is for unit {SUGGESTED_UNIT}; cannot {verb} it"
    )


@pytest.mark.parametrize(
    "steps", [REGISTERED, MEASURED], ids=["problem-registered", "problem-rectifying"]
)
def test_only_a_suggestion_is_answered(steps):
    with pytest.raises(IllegalTransition, match=f"issue {ID} is"):
        given(*steps).when(AnswerSuggestion("好的", HANDLER), at(9, 29))


def test_an_improvement_cannot_be_answered():
    story = given((register(list="improvement"), at(9, 14)))

    with pytest.raises(IllegalTransition, match="is not a suggestion; cannot answer"):
        story.when(AnswerSuggestion("好的", HANDLER), at(9, 15))


# Units --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "cmd", "verb"),
    [
        (REGISTERED, measures(OTHER_HANDLER, days=6), "set measures for"),
        (MEASURED, ReportProgress("进展", OTHER_HANDLER), "report progress on"),
        (MEASURED, Submit(("https://files.example/x",), OTHER_HANDLER), "submit"),
        (SUGGESTED, AnswerSuggestion("好", OTHER_HANDLER), "answer"),
    ],
    ids=["set-measures", "report-progress", "submit", "answer-suggestion"],
)
def test_a_handler_of_another_unit_cannot_act_for_the_acting_unit(steps, cmd, verb):
    story = given(*steps)
    acting = story.state.acting_unit

    with pytest.raises(NotYourUnit) as refused:
        story.when(cmd, at(9, 29))

    assert str(refused.value) == f"issue {ID} is for unit {acting}; cannot {verb} it"


# Illegal transitions ------------------------------------------------------------

PROBLEM_ILLEGAL = [
    (REGISTERED, PROGRESS, "registered", "report progress on"),
    (REGISTERED, SUBMIT, "registered", "submit it for close-out"),
    (REGISTERED, SEND_BACK, "registered", "send it back"),
    (REGISTERED, CLOSE, "registered", "close"),
    (REGISTERED, MarkOverdue(), "registered", "mark it overdue"),
    (MEASURED, SIX_WORKING_DAYS, "rectifying", "set measures for"),
    (MEASURED, AT_ONCE, "rectifying", "set measures for"),
    (MEASURED, SEND_BACK, "rectifying", "send it back"),
    (MEASURED, CLOSE, "rectifying", "close"),
    (MEASURED, AnswerSuggestion("好", HANDLER), "rectifying", "answer"),
    (SUBMITTED, PROGRESS, "submitted", "report progress on"),
    (SUBMITTED, SUBMIT, "submitted", "submit it for close-out"),
    (SUBMITTED, SIX_WORKING_DAYS, "submitted", "set measures for"),
    (SUBMITTED, MarkOverdue(), "submitted", "mark it overdue"),
    (SENT_BACK, SEND_BACK, "rectifying", "send it back"),
    (SENT_BACK, CLOSE, "rectifying", "close"),
    (CLOSED, PROGRESS, "closed", "report progress on"),
    (CLOSED, SUBMIT, "closed", "submit it for close-out"),
    (CLOSED, SEND_BACK, "closed", "send it back"),
    (CLOSED, CLOSE, "closed", "close"),
    (CLOSED, SIX_WORKING_DAYS, "closed", "set measures for"),
    (CLOSED, MarkOverdue(), "closed", "mark it overdue"),
    (CLOSED, AnswerSuggestion("好", HANDLER), "closed", "answer"),
    (AT_ONCE_CLOSED, AT_ONCE, "closed", "set measures for"),
]
SUGGESTION_ILLEGAL = [
    (SUGGESTED, ReportProgress("进展", SUGGESTED_HANDLER), "registered", "report"),
    (SUGGESTED, CLOSE, "registered", "close"),
    (ANSWERED, ANSWER, "answered", "answer"),
    (ANSWERED, Submit(("https://x",), SUGGESTED_HANDLER), "answered", "submit"),
    (ANSWERED, MarkOverdue(), "answered", "mark it overdue"),
    (SUGGESTION_MEASURED, ANSWER, "rectifying", "answer"),
    (SUGGESTION_CLOSED, ANSWER, "closed", "answer"),
]


def _illegal_id(case) -> str:
    steps, cmd, status, _ = case
    return f"{type(cmd).__name__}-when-{status}-{len(steps)}"


@pytest.mark.parametrize(
    ("steps", "cmd", "status", "verb"),
    PROBLEM_ILLEGAL + SUGGESTION_ILLEGAL,
    ids=[_illegal_id(c) for c in PROBLEM_ILLEGAL + SUGGESTION_ILLEGAL],
)
def test_a_command_in_the_wrong_state_is_refused_naming_state_and_verb(
    steps, cmd, status, verb
):
    story = given(*steps)
    before = list(story.history)

    with pytest.raises(IllegalTransition) as refused:
        story.when(cmd, at(10, 20))

    message = str(refused.value)
    assert f"issue {ID} is {status}" in message
    assert f"cannot {verb}" in message
    assert story.history == before


def test_a_closed_issue_stays_closed_whatever_is_asked():
    story = given(*CLOSED)
    for cmd in (PROGRESS, SUBMIT, SEND_BACK, CLOSE, SIX_WORKING_DAYS, MarkOverdue()):
        with pytest.raises(IllegalTransition):
            story.when(cmd, at(12, 1))
    assert story.state.status == "closed"


# Overdue ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now", [at(9, 24, 11), at(10, 9, 23, 59), at(10, 10, 18), DUE], ids=str
)
def test_an_issue_is_not_overdue_up_to_its_deadline(now):
    with pytest.raises(NotDue, match=f"issue {ID} is not newly overdue"):
        given(*MEASURED).when(MarkOverdue(), now)


def test_an_issue_is_overdue_once_its_deadline_has_passed():
    (overdue,) = given(*MEASURED).when(MarkOverdue(), at(10, 11, 0))

    assert overdue.type == "IssueOverdue"
    assert overdue.actor == "system:timer"
    assert overdue.reason == "deadline passed"
    assert overdue.data == {"unit": UNIT, "due_at": DUE.isoformat()}
    state = fold([*given(*MEASURED).history, overdue])
    assert state.overdue_for == DUE
    assert state.status == "rectifying"


@pytest.mark.parametrize("now", [at(10, 11, 0, 1), at(10, 12), at(11, 30)], ids=str)
def test_an_issue_is_marked_overdue_only_once(now):
    with pytest.raises(NotDue, match="not newly overdue"):
        given(*OVERDUE).when(MarkOverdue(), now)


def test_being_sent_back_does_not_make_an_issue_overdue_a_second_time():
    story = given(*OVERDUE, (SUBMIT, at(10, 12)), (SEND_BACK, at(10, 13)))

    assert story.state.status == "rectifying"
    with pytest.raises(NotDue):
        story.when(MarkOverdue(), at(10, 14))


def test_an_issue_sent_back_after_its_deadline_becomes_overdue():
    story = given(*SUBMITTED, (SEND_BACK, at(10, 12)))

    (overdue,) = story.when(MarkOverdue(), at(10, 12, 1))

    assert overdue.data == {"unit": UNIT, "due_at": DUE.isoformat()}


def test_a_submitted_issue_waiting_past_its_deadline_is_not_overdue():
    with pytest.raises(IllegalTransition, match=f"issue {ID} is submitted"):
        given(*SUBMITTED).when(MarkOverdue(), at(10, 12))


def test_an_overdue_suggestion_names_the_suggested_unit():
    (overdue,) = given(*SUGGESTION_MEASURED).when(MarkOverdue(), at(10, 12))

    assert overdue.data == {"unit": SUGGESTED_UNIT, "due_at": DUE.isoformat()}


def test_an_overdue_deadline_from_a_date_is_the_moved_working_day():
    story = given(*REGISTERED, (measures(deadline=d(10, 3)), at(9, 18)))

    with pytest.raises(NotDue):
        story.when(MarkOverdue(), at(10, 8, 20))
    (overdue,) = story.when(MarkOverdue(), at(10, 9, 0))
    assert overdue.data["due_at"] == end_of(d(10, 8)).isoformat()


# Folding --------------------------------------------------------------------------


def test_folding_nothing_is_an_unknown_issue():
    assert fold([]) == Issue()
    assert Issue().status is None


def test_an_unknown_event_type_leaves_the_state_as_it_was():
    state = given(*MEASURED).state
    stray = NewEvent("IssueCommented", {"text": "?"}, actor="x:y")

    assert evolve(state, stray) == state


def test_progress_reports_do_not_change_the_state():
    assert given(*PROGRESSED).state == given(*MEASURED).state


# Events on the wire ---------------------------------------------------------------


def _floats(tree):
    if isinstance(tree, float):
        yield tree
    elif isinstance(tree, dict):
        for value in tree.values():
            yield from _floats(value)
    elif isinstance(tree, list | tuple):
        for value in tree:
            yield from _floats(value)


STORIES = {
    "main-line": CLOSED,
    "at-once": AT_ONCE_CLOSED,
    "suggestion": SUGGESTION_CLOSED,
    "late": LATE_CLOSED,
    "from-complaint": (
        (register(source="complaint", complaint_id=COMPLAINT_ID), at(9, 14)),
        (measures(deadline=d(10, 3)), at(9, 18)),
    ),
}


def _campaign_events():
    return decide_campaign(False, launch(*CAMPAIGN_PHASES), at(2, 27))


@pytest.mark.parametrize("steps", list(STORIES.values()), ids=list(STORIES))
def test_every_event_is_json_without_floats(steps):
    for event in given(*steps).history:
        assert isinstance(event, NewEvent)
        assert json.loads(json.dumps(event.data, ensure_ascii=False)) == event.data
        assert list(_floats(event.data)) == [], event.type
        assert event.reason is None or isinstance(event.reason, str)


def test_the_campaign_event_is_json_without_floats():
    (launched,) = _campaign_events()

    assert json.loads(json.dumps(launched.data, ensure_ascii=False)) == launched.data
    assert list(_floats(launched.data)) == []


def test_every_event_type_emitted_has_a_published_contract():
    emitted = {e.type for steps in STORIES.values() for e in given(*steps).history}
    emitted |= {"IssueOverdue"} | {e.type for e in _campaign_events()}

    for type_ in sorted(emitted):
        assert REGISTRY.owners.get(type_) == "issues", type_
        assert REGISTRY.latest(type_) == 1, type_


# A deterministic random walk ------------------------------------------------------

WALK_ACTORS = (HANDLER, SUGGESTED_HANDLER, OTHER_HANDLER, SUPERVISOR)


def _random_command(rng: random.Random):
    by = rng.choice(WALK_ACTORS)
    limit = rng.choice(
        (
            {"at_once": True},
            {"days": rng.randint(1, 10)},
            {"deadline": d(9, 14) + timedelta(days=rng.randint(0, 60))},
        )
    )
    choices = [
        (1, lambda: rng.choice((register(), suggest()))),
        (2, lambda: AnswerSuggestion("答复", by)),
        (4, lambda: measures(by, **limit)),
        (3, lambda: ReportProgress("进展", by)),
        (3, lambda: Submit(("https://files.example/e",), by)),
        (2, lambda: SendBack("不到位", SUPERVISOR)),
        (2, lambda: VerifyAndClose(SUPERVISOR)),
        (4, MarkOverdue),
    ]
    weights, makers = zip(*choices, strict=True)
    return rng.choices(makers, weights)[0]()


def _walk(seed: int, steps: int = 50) -> None:
    rng = random.Random(seed)
    history: list[NewEvent] = []
    now = at(9, 1, 9)
    first = rng.choice((register(), suggest()))
    for step in range(steps):
        cmd = first if step == 0 else _random_command(rng)
        now += timedelta(minutes=rng.randint(1, 60 * 36))
        where = f"seed {seed}, step {step}: {cmd!r} at {now.isoformat()}"
        state = fold(history)
        try:
            events = decide(state, cmd, now, CAL)
        except DomainError:
            assert fold(history) == state, where  # refusing changes nothing
            continue
        assert state.status != "closed", where
        for event in events:
            json.dumps(event.data)
            assert list(_floats(event.data)) == [], where
            assert event.occurred_at == now, where
        history += events
        after = fold(history)
        assert after.status in STATUSES, where
        if after.status == "rectifying" and after.due_at is not None:
            assert after.due_at.timetz() == time.max.replace(tzinfo=after.due_at.tzinfo)
            assert CAL.is_workday(after.due_at.date()), where
    overdue = [e.data["due_at"] for e in history if e.type == "IssueOverdue"]
    assert len(overdue) == len(set(overdue)) <= 1, f"seed {seed}: overdue twice"


@pytest.mark.parametrize("seed", range(40))
def test_a_random_walk_keeps_the_rules(seed):
    _walk(seed)
