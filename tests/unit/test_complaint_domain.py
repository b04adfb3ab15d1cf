"""The complaint aggregate told as stories: given these commands (each decided and
folded in turn), when this command at this moment, then these events or this error.

Every moment is in Shanghai, in 2026, on the real official calendar
(chinesecalendar 1.11.0). The days the stories lean on:
- Spring Festival 2026: Sat Feb 14 is a make-up workday, Feb 15-23 are rest days,
  Sat Feb 28 is a make-up workday.
- March 2026 has no holidays: Mon-Fri are workdays, Sat and Sun rest.
"""

import json
import random
from datetime import date, datetime, timedelta

import pytest

from contracts.vocabulary import STATUSES, TERMINAL
from eventlog.deadlines import (
    TZ,
    OfficialCalendar,
    TimeLimit,
    add_days,
    count_days,
    due_at,
    reminder_at,
)
from eventlog.model import NewEvent
from services.complaints.commands import (
    SYSTEM,
    AcceptComplaint,
    Actor,
    ApproveExtension,
    CloseComplaint,
    DispatchComplaint,
    EscalateComplaint,
    GiveFeedback,
    MarkOverdue,
    MergeComplaint,
    RateComplaint,
    ReceiveComplaint,
    RefuseExtension,
    RejectComplaint,
    RemindDeadline,
    ReplyComplaint,
    RequestExtension,
    ReturnComplaint,
    SignComplaint,
    UrgeComplaint,
)
from services.complaints.domain import (
    DomainError,
    IllegalTransition,
    NotDue,
    NotYourUnit,
    decide,
    fold,
)
from services.complaints.pii import (
    Keyring,
    Unreadable,
    WrappedKey,
    given_fields,
    identity_of,
)
from tests.unit.stories import at, end_of, storyteller, types

CAL = OfficialCalendar()
ID = "C-2026-000123"
UNIT, OTHER_UNIT = "U-HOUSING", "U-WATER"
FIVE_WORKING_DAYS = TimeLimit(5)

INTAKE = Actor("clerk-7", "intake")
SUPERVISOR = Actor("sup-1", "supervisor")
HANDLER = Actor("handler-1", "unit_handler", UNIT)
OTHER_HANDLER = Actor("handler-9", "unit_handler", OTHER_UNIT)
IDENTITY = {"name": "王小明", "phone": "13800138000", "address": "人民路2号"}
KEYRING = Keyring(bytes(range(32)))
REF = "P-TESTREF00001"
# As the handler gives it (services/complaints/identity.py): encrypted already.
CIPHERTEXT, KEY = KEYRING.seal_new("binhai", REF, IDENTITY)
COMPLAINANT = {"ref": REF, "ciphertext": CIPHERTEXT, "given": given_fields(IDENTITY)}


given = storyteller(decide, fold, CAL)


def receive(**overrides) -> ReceiveComplaint:
    fields = {
        "id": ID,
        "channel": "12345",
        "kind": "complaint",
        "category": "shirking",
        "description": "三个部门互相推诿，办证跑了六趟",
        "by": INTAKE,
        "title": "办证推诿",
        "unit_complained": UNIT,
        "persons": ("张科长",),
        "location": {"address": "人民路1号", "lat": 31.2304, "long": 121.4737},
        "attachments": ("att-1",),
        "complainant": COMPLAINANT,
    }
    return ReceiveComplaint(**(fields | overrides))


def dispatch(unit=UNIT, limit=FIVE_WORKING_DAYS) -> DispatchComplaint:
    return DispatchComplaint(
        unit, "住建局", limit, SUPERVISOR, note="请5个工作日内办结"
    )


ACCEPT = AcceptComplaint(INTAKE, note="属于受理范围")
SIGN = SignComplaint(HANDLER)
RETURN = ReturnComplaint("不属于本单位职责", HANDLER)
REPLY = ReplyComplaint("已约谈责任人并办结证件", HANDLER, substantiated=True)
FEEDBACK = GiveFeedback("已电话告知办理结果", INTAKE)
RATE_SATISFIED = RateComplaint("satisfied", INTAKE)
RATE_DISSATISFIED = RateComplaint("dissatisfied", INTAKE, comment="证还没拿到")
CLOSE = CloseComplaint(SUPERVISOR)
REQUEST_3_DAYS = RequestExtension(3, "需要现场核查", HANDLER)
APPROVE = ApproveExtension(SUPERVISOR, reason="同意延期")
REFUSE = RefuseExtension("理由不充分", SUPERVISOR)

# The main line: signed on Friday Feb 13, just before the Spring Festival.
RECEIVED = ((receive(), at(2, 11, 9)),)
ACCEPTED = RECEIVED + ((ACCEPT, at(2, 11, 10)),)
DISPATCHED = ACCEPTED + ((dispatch(), at(2, 12)),)
SIGNED = DISPATCHED + ((SIGN, at(2, 13)),)
RETURNED = DISPATCHED + ((RETURN, at(2, 13)),)
REPLIED = SIGNED + ((REPLY, at(2, 26)),)
FED_BACK = REPLIED + ((FEEDBACK, at(2, 27)),)
RATED_SATISFIED = FED_BACK + ((RATE_SATISFIED, at(3, 2)),)
CLOSED = RATED_SATISFIED + ((CLOSE, at(3, 3)),)
REOPENED = FED_BACK + ((RATE_DISSATISFIED, at(3, 2)),)
REJECTED = RECEIVED + ((RejectComplaint("不属于作风问题", INTAKE), at(2, 11, 10)),)
MERGED = RECEIVED + ((MergeComplaint("C-2026-000007", INTAKE), at(2, 11, 10)),)
LATER = at(3, 20)

# Five working days from Friday Feb 13: Sat Feb 14 (make-up), then Feb 24-27.
DUE_AFTER_SPRING_FESTIVAL = end_of(date(2026, 2, 27))


# The main line ----------------------------------------------------------------


def test_five_working_days_from_friday_feb_13_end_on_friday_feb_27():
    assert add_days(CAL, date(2026, 2, 13), 5, working=True) == date(2026, 2, 27)


def test_the_main_line_runs_from_intake_to_close():
    story = given()
    emitted = []
    for cmd, now in CLOSED:
        events = decide(fold(story.history), cmd, now, CAL)
        story.history += events
        emitted.append(types(events))

    assert emitted == [
        ["ComplaintReceived"],
        ["ComplaintAccepted"],
        ["ComplaintDispatched"],
        ["ComplaintSigned"],
        ["ComplaintReplied"],
        ["ComplaintFeedbackGiven"],
        ["ComplaintRated"],
        ["ComplaintClosed"],
    ]
    received, accepted, dispatched, signed, replied, _, rated, closed = story.history
    assert received.data["complaint_id"] == ID
    assert accepted.reason == "属于受理范围"
    assert dispatched.data["unit"] == UNIT
    assert dispatched.data["time_limit"] == {"days": 5, "working": True}
    assert signed.data == {
        "unit": UNIT,
        "clock_started_at": at(2, 13).isoformat(),
        "extra_days": 0,
        "due_at": DUE_AFTER_SPRING_FESTIVAL.isoformat(),
        "remind_at": datetime(2026, 2, 26, tzinfo=TZ).isoformat(),
    }
    assert replied.data == {
        "result": REPLY.result,
        "substantiated": True,
        "unit": UNIT,
        "on_time": True,
    }
    # The unit rated travels with the rating: assessment charges it to that unit.
    assert rated.data == {"rating": "satisfied", "comment": None, "unit": UNIT}
    assert closed.data == {"by_ruling": False}
    assert story.state.status == "closed"


def test_each_event_is_signed_by_who_asked_and_dated_when_asked():
    story = given(*CLOSED)

    assert [(e.actor, e.occurred_at) for e in story.history] == [
        (str(cmd.by), now) for cmd, now in CLOSED
    ]
    assert story.history[3].actor == "unit_handler:handler-1"


def test_signing_starts_the_clock_on_the_official_calendar():
    state = given(*SIGNED).state

    assert state.status == "in_progress"
    assert state.handling_unit == UNIT
    assert state.clock_started_at == at(2, 13)
    assert state.due_at == DUE_AFTER_SPRING_FESTIVAL
    assert state.due_at == due_at(CAL, at(2, 13), FIVE_WORKING_DAYS)


def test_a_reply_after_the_deadline_is_not_on_time():
    (replied,) = given(*SIGNED).when(REPLY, at(3, 2))

    assert replied.data["on_time"] is False


def test_a_complaint_cannot_be_received_twice():
    with pytest.raises(IllegalTransition, match=f"complaint {ID} exists"):
        given(*RECEIVED).when(receive(), at(2, 11, 11))


def test_nothing_but_receiving_can_happen_to_an_unknown_complaint():
    with pytest.raises(IllegalTransition, match="no such complaint"):
        given().when(ACCEPT, at(2, 11))


# Illegal transitions ----------------------------------------------------------

ILLEGAL = [
    pytest.param(RECEIVED, SIGN, "received", "sign for", id="sign-before-accept"),
    pytest.param(ACCEPTED, SIGN, "accepted", "sign for", id="sign-before-dispatch"),
    pytest.param(ACCEPTED, ACCEPT, "accepted", "accept", id="accept-twice"),
    pytest.param(DISPATCHED, REPLY, "dispatched", "reply to", id="reply-unsigned"),
    pytest.param(RETURNED, REPLY, "returned", "reply to", id="reply-while-returned"),
    pytest.param(RETURNED, SIGN, "returned", "sign for", id="sign-while-returned"),
    pytest.param(SIGNED, SIGN, "in_progress", "sign for", id="sign-twice"),
    pytest.param(SIGNED, dispatch(), "in_progress", "dispatch", id="dispatch-signed"),
    pytest.param(
        SIGNED, FEEDBACK, "in_progress", "give feedback on", id="feedback-before-reply"
    ),
    pytest.param(REPLIED, RATE_SATISFIED, "replied", "rate", id="rate-before-feedback"),
    pytest.param(
        RATED_SATISFIED, RATE_DISSATISFIED, "fed_back", "rate", id="rate-twice"
    ),
    pytest.param(REPLIED, RETURN, "replied", "return", id="return-after-reply"),
    pytest.param(
        DISPATCHED,
        REQUEST_3_DAYS,
        "dispatched",
        "request an extension for",
        id="extension-before-signing",
    ),
    pytest.param(
        REPLIED, MarkOverdue(), "replied", "mark overdue", id="overdue-replied"
    ),
    pytest.param(
        RETURNED,
        RemindDeadline(),
        "returned",
        "remind of the deadline of",
        id="remind-while-returned",
    ),
    pytest.param(REPLIED, CLOSE, "replied", "close", id="close-without-rating"),
    pytest.param(FED_BACK, CLOSE, "fed_back", "close", id="close-unrated"),
    pytest.param(REOPENED, CLOSE, "reopened", "close", id="close-dissatisfied"),
    pytest.param(CLOSED, dispatch(), "closed", "dispatch", id="dispatch-closed"),
    pytest.param(CLOSED, CLOSE, "closed", "close", id="close-twice"),
    pytest.param(CLOSED, UrgeComplaint(SUPERVISOR), "closed", "urge", id="urge-closed"),
    pytest.param(
        CLOSED,
        EscalateComplaint("拖延", SUPERVISOR),
        "closed",
        "escalate",
        id="escalate-closed",
    ),
    pytest.param(REJECTED, ACCEPT, "rejected", "accept", id="accept-rejected"),
    pytest.param(REJECTED, dispatch(), "rejected", "dispatch", id="dispatch-rejected"),
    pytest.param(
        REJECTED, RejectComplaint("again", INTAKE), "rejected", "reject", id="reject-2"
    ),
    pytest.param(
        REJECTED,
        EscalateComplaint("拖延", SUPERVISOR),
        "rejected",
        "escalate",
        id="escalate-rejected",
    ),
    pytest.param(MERGED, ACCEPT, "merged", "accept", id="accept-merged"),
    pytest.param(MERGED, dispatch(), "merged", "dispatch", id="dispatch-merged"),
    pytest.param(
        MERGED, MergeComplaint("C-2026-000009", INTAKE), "merged", "merge", id="merge-2"
    ),
    pytest.param(MERGED, CLOSE, "merged", "close", id="close-merged"),
]


@pytest.mark.parametrize(("steps", "cmd", "status", "verb"), ILLEGAL)
def test_a_command_in_the_wrong_state_is_refused_naming_state_and_verb(
    steps, cmd, status, verb
):
    story = given(*steps)
    appended = list(story.history)

    with pytest.raises(IllegalTransition) as refused:
        appended += story.when(cmd, LATER)

    message = str(refused.value)
    assert f"complaint {ID} is {status}" in message
    assert f"cannot {verb}" in message
    assert appended == story.history  # the caller has nothing to append


# Units ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "cmd", "verb"),
    [
        (DISPATCHED, SignComplaint(OTHER_HANDLER), "sign for"),
        (DISPATCHED, ReturnComplaint("不归我们管", OTHER_HANDLER), "return"),
        (SIGNED, ReturnComplaint("不归我们管", OTHER_HANDLER), "return"),
        (SIGNED, ReplyComplaint("办好了", OTHER_HANDLER), "reply to"),
        (SIGNED, RequestExtension(2, "忙", OTHER_HANDLER), "request an extension for"),
    ],
    ids=["sign", "return-dispatched", "return-signed", "reply", "request-extension"],
)
def test_a_handler_of_another_unit_cannot_act_for_the_handling_unit(steps, cmd, verb):
    with pytest.raises(NotYourUnit) as refused:
        given(*steps).when(cmd, at(2, 24))

    message = str(refused.value)
    assert f"is with unit {UNIT}, not {OTHER_UNIT}" in message
    assert f"cannot {verb} it" in message


@pytest.mark.parametrize(
    ("steps", "cmd", "event_type"),
    [
        (DISPATCHED, UrgeComplaint(SUPERVISOR, note="请尽快签收"), "ComplaintUrged"),
        (SIGNED, UrgeComplaint(SUPERVISOR), "ComplaintUrged"),
        (RETURNED, UrgeComplaint(SUPERVISOR), "ComplaintUrged"),
        (SIGNED, EscalateComplaint("群众反映强烈", SUPERVISOR), "ComplaintEscalated"),
        (
            SIGNED + ((REQUEST_3_DAYS, at(2, 24)),),
            APPROVE,
            "ComplaintExtensionApproved",
        ),
        (
            SIGNED + ((REQUEST_3_DAYS, at(2, 24)),),
            REFUSE,
            "ComplaintExtensionRefused",
        ),
        (
            REPLIED,
            CloseComplaint(SUPERVISOR, ruling="经研究予以办结"),
            "ComplaintClosed",
        ),
    ],
    ids=[
        "urge-dispatched",
        "urge-signed",
        "urge-returned",
        "escalate",
        "approve",
        "refuse",
        "rule",
    ],
)
def test_a_supervisor_of_no_unit_may_still_supervise(steps, cmd, event_type):
    events = given(*steps).when(cmd, at(2, 25))

    assert types(events) == [event_type]
    assert events[0].actor == "supervisor:sup-1"


def test_urging_and_escalating_name_the_handling_unit():
    story = given(*SIGNED)

    (urged,) = story.when(UrgeComplaint(SUPERVISOR, note="请加快"), at(2, 24))
    (escalated,) = story.when(EscalateComplaint("拖延", SUPERVISOR), at(2, 24))

    assert urged.data == {"unit": UNIT} and urged.reason == "请加快"
    assert escalated.data == {"unit": UNIT} and escalated.reason == "拖延"


# Returns pause the clock ------------------------------------------------------

# Signed Monday Mar 2: five working days end on Monday Mar 9.
SIGNED_MAR_2 = ACCEPTED + ((dispatch(), at(3, 2, 9)), (SIGN, at(3, 2)))
RETURNED_MAR_4 = SIGNED_MAR_2 + ((RETURN, at(3, 4)),)


def test_a_return_after_signing_pauses_the_clock():
    (returned,) = given(*SIGNED_MAR_2).when(RETURN, at(3, 4))

    assert returned.type == "ComplaintReturned"
    assert returned.data == {"unit": UNIT, "clock_paused": True}
    assert returned.reason == "不属于本单位职责"
    state = given(*RETURNED_MAR_4).state
    assert state.status == "returned"
    assert state.paused_at == at(3, 4)


def test_signing_again_after_a_return_adds_the_paused_working_days():
    old_due = given(*SIGNED_MAR_2).state.due_at
    story = given(*RETURNED_MAR_4, (dispatch(), at(3, 5)))

    (signed,) = story.when(SIGN, at(3, 9))

    spent = count_days(CAL, date(2026, 3, 4), date(2026, 3, 9), working=True)
    assert old_due == end_of(date(2026, 3, 9))
    assert spent == 3  # Thu Mar 5, Fri Mar 6, Mon Mar 9
    expected = end_of(add_days(CAL, old_due.date(), spent, working=True))
    assert expected == end_of(date(2026, 3, 12))
    assert signed.data["clock_started_at"] == at(3, 2).isoformat()
    assert signed.data["extra_days"] == spent
    assert signed.data["due_at"] == expected.isoformat()
    state = given(*RETURNED_MAR_4, (dispatch(), at(3, 5)), (SIGN, at(3, 9))).state
    assert state.due_at == expected
    assert state.paused_at is None


def test_repeated_returns_keep_the_clock_paused_from_the_first_return():
    # The unit returns it on Mar 4, the next unit returns it too on Mar 6; it is
    # signed only on Mar 10. Nobody held it from Mar 4 to Mar 10: all of it is paused.
    story = given(
        *RETURNED_MAR_4,
        (dispatch(OTHER_UNIT), at(3, 5)),
        (ReturnComplaint("也不归我们", OTHER_HANDLER), at(3, 6)),
        (dispatch(UNIT), at(3, 9)),
    )

    (signed,) = story.when(SIGN, at(3, 10))

    spent = count_days(CAL, date(2026, 3, 4), date(2026, 3, 10), working=True)
    assert spent == 4  # Mar 5, 6, 9, 10
    assert signed.data["extra_days"] == spent
    assert signed.data["due_at"] == end_of(date(2026, 3, 13)).isoformat()


def test_a_return_before_signing_pauses_nothing():
    (returned,) = given(*DISPATCHED).when(RETURN, at(2, 13))

    assert returned.data == {"unit": UNIT, "clock_paused": False}
    state = given(*RETURNED).state
    assert state.paused_at is None
    assert state.due_at is None


def test_the_first_signing_after_an_early_return_starts_the_clock():
    story = given(*RETURNED, (dispatch(OTHER_UNIT), at(2, 24)))

    (signed,) = story.when(SignComplaint(OTHER_HANDLER), at(3, 2))

    assert signed.data["unit"] == OTHER_UNIT
    assert signed.data["clock_started_at"] == at(3, 2).isoformat()
    assert signed.data["extra_days"] == 0
    assert signed.data["due_at"] == end_of(date(2026, 3, 9)).isoformat()


def test_a_return_drops_a_pending_extension_request():
    story = given(*SIGNED, (REQUEST_3_DAYS, at(2, 24)), (RETURN, at(2, 25)))

    assert story.state.pending_extension is None


# Extensions -------------------------------------------------------------------

REQUESTED = SIGNED + ((REQUEST_3_DAYS, at(2, 24)),)


def test_an_extension_request_is_recorded_with_its_reason():
    (requested,) = given(*SIGNED).when(REQUEST_3_DAYS, at(2, 24))

    assert requested.type == "ComplaintExtensionRequested"
    assert requested.data == {"days": 3, "working": True}
    assert requested.reason == "需要现场核查"
    assert given(*REQUESTED).state.pending_extension == 3


def test_an_approved_extension_adds_its_working_days_to_the_deadline():
    (approved,) = given(*REQUESTED).when(APPROVE, at(2, 25))

    # 5 + 3 working days from Feb 13: Feb 14, 24, 25, 26, 27, 28, Mar 2, Mar 3.
    new_due = end_of(date(2026, 3, 3))
    assert new_due == due_at(CAL, at(2, 13), FIVE_WORKING_DAYS, 3)
    assert approved.data == {
        "days": 3,
        "extra_days": 3,
        "due_at": new_due.isoformat(),
        "remind_at": reminder_at(CAL, new_due).isoformat(),
    }
    assert approved.reason == "同意延期"
    state = given(*REQUESTED, (APPROVE, at(2, 25))).state
    assert state.due_at == new_due
    assert state.pending_extension is None


def test_a_refused_extension_leaves_the_deadline():
    (refused,) = given(*REQUESTED).when(REFUSE, at(2, 25))

    assert refused.type == "ComplaintExtensionRefused"
    assert refused.reason == "理由不充分"
    state = given(*REQUESTED, (REFUSE, at(2, 25))).state
    assert state.due_at == DUE_AFTER_SPRING_FESTIVAL
    assert state.pending_extension is None


def test_after_a_refusal_the_unit_may_ask_again():
    story = given(*REQUESTED, (REFUSE, at(2, 25)))

    assert types(story.when(REQUEST_3_DAYS, at(2, 26))) == [
        "ComplaintExtensionRequested"
    ]


def test_a_second_extension_request_while_one_is_pending_is_refused():
    with pytest.raises(IllegalTransition, match="already has an extension request"):
        given(*REQUESTED).when(RequestExtension(1, "再延一天", HANDLER), at(2, 25))


@pytest.mark.parametrize(("cmd", "verb"), [(APPROVE, "approve"), (REFUSE, "refuse")])
def test_an_extension_cannot_be_decided_without_a_request(cmd, verb):
    with pytest.raises(
        IllegalTransition, match=f"no extension request pending; cannot {verb}"
    ):
        given(*SIGNED).when(cmd, at(2, 25))


# Rating, reopening, closing ---------------------------------------------------


def test_a_dissatisfied_rating_reopens_the_complaint():
    events = given(*FED_BACK).when(RATE_DISSATISFIED, at(3, 2))

    assert types(events) == ["ComplaintRated", "ComplaintReopened"]
    assert events[0].data == {
        "rating": "dissatisfied",
        "comment": "证还没拿到",
        "unit": UNIT,
    }
    assert events[1].reason == "dissatisfied rating"
    assert given(*REOPENED).state.status == "reopened"


def test_a_basically_satisfied_rating_lets_the_complaint_close():
    story = given(*FED_BACK, (RateComplaint("basically_satisfied", INTAKE), at(3, 2)))

    assert types(story.when(CLOSE, at(3, 3))) == ["ComplaintClosed"]


def test_a_reopened_complaint_is_dispatched_again_with_a_fresh_clock():
    # The first round had an extension and went overdue; none of it carries over.
    first_round = (
        *REQUESTED,
        (APPROVE, at(2, 25)),
        (MarkOverdue(), at(3, 4)),
        (REPLY, at(3, 5)),
        (FEEDBACK, at(3, 5, 15)),
        (RATE_DISSATISFIED, at(3, 6)),
    )
    story = given(*first_round, (dispatch(), at(3, 9, 9)))
    assert story.state.status == "dispatched"

    (signed,) = story.when(SIGN, at(3, 9))

    assert signed.data["clock_started_at"] == at(3, 9).isoformat()
    assert signed.data["extra_days"] == 0
    assert signed.data["due_at"] == end_of(date(2026, 3, 16)).isoformat()
    state = given(*first_round, (dispatch(), at(3, 9, 9)), (SIGN, at(3, 9))).state
    assert state.overdue_for is None
    assert state.reminded_for is None
    assert state.rating is None


@pytest.mark.parametrize(
    "steps", [REPLIED, FED_BACK, REOPENED], ids=["replied", "fed_back", "reopened"]
)
def test_a_supervisors_ruling_closes_without_an_accepting_rating(steps):
    ruling = CloseComplaint(SUPERVISOR, ruling="诉求超出政策范围，已解释到位")

    (closed,) = given(*steps).when(ruling, at(3, 3))

    assert closed.type == "ComplaintClosed"
    assert closed.data == {"by_ruling": True}
    assert closed.reason == ruling.ruling
    assert given(*steps, (ruling, at(3, 3))).state.status == "closed"


# Rejecting and merging ----------------------------------------------------------


@pytest.mark.parametrize("steps", [RECEIVED, ACCEPTED], ids=["received", "accepted"])
def test_a_rejection_carries_its_reason(steps):
    (rejected,) = given(*steps).when(
        RejectComplaint("不属于作风问题", INTAKE), at(2, 12)
    )

    assert rejected.type == "ComplaintRejected"
    assert rejected.reason == "不属于作风问题"
    assert given(*REJECTED).state.status == "rejected"


def test_a_duplicate_is_merged_into_the_complaint_it_repeats():
    cmd = MergeComplaint("C-2026-000007", INTAKE, reason="重复投诉")

    (merged,) = given(*ACCEPTED).when(cmd, at(2, 12))

    assert merged.type == "ComplaintMerged"
    assert merged.data == {"into": "C-2026-000007"}
    assert merged.reason == "重复投诉"


def test_a_complaint_cannot_be_merged_into_itself():
    with pytest.raises(IllegalTransition, match="cannot be merged into itself"):
        given(*RECEIVED).when(MergeComplaint(ID, INTAKE), at(2, 12))


# Overdue and reminders ----------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [at(2, 27, 18), DUE_AFTER_SPRING_FESTIVAL],
    ids=["on-the-last-day", "at-the-last-moment"],
)
def test_a_complaint_is_not_overdue_until_its_deadline_has_passed(now):
    with pytest.raises(NotDue):
        given(*SIGNED).when(MarkOverdue(), now)


def test_a_complaint_past_its_deadline_is_marked_overdue():
    (overdue,) = given(*SIGNED).when(MarkOverdue(), at(2, 28, 0))

    assert overdue.type == "ComplaintOverdue"
    assert overdue.data == {
        "unit": UNIT,
        "due_at": DUE_AFTER_SPRING_FESTIVAL.isoformat(),
    }
    assert overdue.actor == str(SYSTEM)
    assert overdue.reason == "time limit passed"


def test_a_complaint_is_marked_overdue_only_once_per_deadline():
    story = given(*SIGNED, (MarkOverdue(), at(2, 28, 0)))

    with pytest.raises(NotDue):
        story.when(MarkOverdue(), at(3, 2))


def test_an_extended_deadline_can_be_missed_again_once():
    extended = (
        *SIGNED,
        (MarkOverdue(), at(2, 28, 0)),
        (REQUEST_3_DAYS, at(3, 2, 9)),
        (APPROVE, at(3, 2, 11)),
    )
    with pytest.raises(NotDue):
        given(*extended).when(MarkOverdue(), at(3, 3, 23))

    (overdue,) = given(*extended).when(MarkOverdue(), at(3, 4, 0))

    assert overdue.data["due_at"] == end_of(date(2026, 3, 3)).isoformat()
    with pytest.raises(NotDue):
        given(*extended, (MarkOverdue(), at(3, 4, 0))).when(MarkOverdue(), at(3, 5))


# Reminder time for the main line: midnight starting Thursday Feb 26.
REMIND_AT = datetime(2026, 2, 26, tzinfo=TZ)


def test_no_reminder_before_the_last_working_day_before_the_deadline():
    assert reminder_at(CAL, DUE_AFTER_SPRING_FESTIVAL) == REMIND_AT

    with pytest.raises(NotDue, match="not due for a reminder yet"):
        given(*SIGNED).when(RemindDeadline(), REMIND_AT - timedelta(microseconds=1))


def test_on_the_working_day_before_the_deadline_the_unit_is_reminded():
    (near,) = given(*SIGNED).when(RemindDeadline(), at(2, 26, 9))

    assert near.type == "ComplaintDeadlineNear"
    assert near.data == {"unit": UNIT, "due_at": DUE_AFTER_SPRING_FESTIVAL.isoformat()}
    assert near.actor == str(SYSTEM)


def test_the_unit_is_reminded_only_once_per_deadline():
    story = given(*SIGNED, (RemindDeadline(), at(2, 26, 9)))

    with pytest.raises(NotDue):
        story.when(RemindDeadline(), at(2, 27, 9))


def test_no_reminder_once_the_deadline_has_passed():
    with pytest.raises(NotDue):
        given(*SIGNED).when(RemindDeadline(), at(2, 28, 9))


def test_an_extended_deadline_gets_its_own_reminder():
    story = given(
        *SIGNED,
        (RemindDeadline(), at(2, 26, 9)),
        (REQUEST_3_DAYS, at(2, 26, 10)),
        (APPROVE, at(2, 27)),
    )

    (near,) = story.when(RemindDeadline(), at(3, 2, 9))

    assert near.data["due_at"] == end_of(date(2026, 3, 3)).isoformat()


# What the log may hold ----------------------------------------------------------

# A long story touching every event type: a return, an extension, a reminder, a
# missed deadline, a dissatisfied rating and a second round.
EVERY_KIND_OF_EVENT = (
    *SIGNED,
    (UrgeComplaint(SUPERVISOR, note="请加快"), at(2, 24)),
    (RETURN, at(2, 24, 11)),
    (dispatch(), at(2, 25)),
    (SIGN, at(2, 25, 11)),
    (REQUEST_3_DAYS, at(2, 26)),
    (REFUSE, at(2, 26, 11)),
    (REQUEST_3_DAYS, at(2, 27)),
    (APPROVE, at(2, 27, 11)),
    (RemindDeadline(), at(3, 3, 9)),
    (MarkOverdue(), at(3, 5, 0)),
    (EscalateComplaint("超期未办", SUPERVISOR), at(3, 5, 9)),
    (REPLY, at(3, 5, 11)),
    (FEEDBACK, at(3, 6)),
    (RATE_DISSATISFIED, at(3, 9)),
    (dispatch(), at(3, 10)),
    (SIGN, at(3, 10, 11)),
    (REPLY, at(3, 11)),
    (FEEDBACK, at(3, 12)),
    (RATE_SATISFIED, at(3, 13)),
    (CLOSE, at(3, 16)),
)


def test_the_long_story_covers_every_event_type():
    assert set(types(given(*EVERY_KIND_OF_EVENT).history)) == {
        "ComplaintReceived",
        "ComplaintAccepted",
        "ComplaintDispatched",
        "ComplaintSigned",
        "ComplaintUrged",
        "ComplaintReturned",
        "ComplaintExtensionRequested",
        "ComplaintExtensionRefused",
        "ComplaintExtensionApproved",
        "ComplaintDeadlineNear",
        "ComplaintOverdue",
        "ComplaintEscalated",
        "ComplaintReplied",
        "ComplaintFeedbackGiven",
        "ComplaintRated",
        "ComplaintReopened",
        "ComplaintClosed",
    }


def _texts(tree):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield str(key)
            yield from _texts(value)
    elif isinstance(tree, list | tuple):
        for value in tree:
            yield from _texts(value)
    elif tree is not None:
        yield str(tree)


@pytest.mark.parametrize(
    "steps", [CLOSED, EVERY_KIND_OF_EVENT], ids=["main-line", "long-story"]
)
def test_the_complainant_is_named_only_in_the_received_event(steps):
    history = given(*steps).history
    secrets = list(IDENTITY.values())

    received = history[0]
    assert received.schema_version == 2 and "complainant" not in received.data
    assert received.data["complainant_ref"] == REF
    assert received.data["complainant_given"] == ["name", "phone", "address"]
    assert received.data["anonymous"] is False
    opened = KEYRING.open("binhai", received.data["complainant_ciphertext"], KEY)
    assert opened == identity_of(IDENTITY) and opened["email"] is None
    for event in history:
        for secret in secrets:
            assert secret not in event.actor, event.type
            assert secret not in (event.reason or ""), event.type
        for text in _texts(event.data):
            assert not any(secret in text for secret in secrets), event.type
    for event in history[1:]:
        assert not any(k.startswith("complainant") for k in event.data), event.type


def test_the_ciphertext_opens_only_for_its_own_complainant_and_key():
    other = WrappedKey("P-OTHER0000001", KEY.wrapped, KEY.master_key_id)
    with pytest.raises(Unreadable):
        KEYRING.open("binhai", CIPHERTEXT, other)
    with pytest.raises(Unreadable):
        KEYRING.open("jinghai", CIPHERTEXT, KEY)
    with pytest.raises(Unreadable):
        Keyring(bytes(32)).open("binhai", CIPHERTEXT, KEY)


def test_an_anonymous_complaint_names_nobody():
    cmd = receive(complainant=None, query_code_hash="sha256:5f1d")

    (received,) = given().when(cmd, at(2, 11, 9))

    assert received.data["anonymous"] is True
    assert received.data["complainant_ref"] is None
    assert received.data["complainant_ciphertext"] is None
    assert received.data["query_code_hash"] == "sha256:5f1d"


def test_the_received_event_keeps_the_complaint_as_told():
    (received,) = given().when(receive(), at(2, 11, 9))

    assert received.data["channel"] == "12345"
    assert received.data["category"] == "shirking"
    assert received.data["unit_complained"] == UNIT
    assert received.data["persons"] == ["张科长"]
    assert received.data["attachments"] == ["att-1"]
    assert received.data["location"] == {
        "address": "人民路1号",
        "lat": "31.2304",
        "long": "121.4737",
    }
    state = fold([received])
    assert (state.id, state.status, state.kind) == (ID, "received", "complaint")


def _floats(tree):
    if isinstance(tree, float):
        yield tree
    elif isinstance(tree, dict):
        for value in tree.values():
            yield from _floats(value)
    elif isinstance(tree, list | tuple):
        for value in tree:
            yield from _floats(value)


@pytest.mark.parametrize(
    "steps", [CLOSED, EVERY_KIND_OF_EVENT], ids=["main-line", "long-story"]
)
def test_every_event_is_json_without_floats(steps):
    for event in given(*steps).history:
        assert isinstance(event, NewEvent)
        assert json.loads(json.dumps(event.data, ensure_ascii=False)) == event.data
        assert list(_floats(event.data)) == [], event.type


def test_a_location_without_coordinates_keeps_them_empty():
    (received,) = given().when(receive(location={}), at(2, 11, 9))

    assert received.data["location"] == {"address": None, "lat": None, "long": None}


# A deterministic random walk ----------------------------------------------------

ACTORS = (INTAKE, SUPERVISOR, HANDLER, OTHER_HANDLER, SYSTEM)


def _random_command(rng: random.Random):
    by = rng.choice(ACTORS)
    handler = rng.choice((HANDLER, HANDLER, OTHER_HANDLER, SUPERVISOR))
    limit = TimeLimit(rng.randint(1, 5), rng.random() < 0.7)
    rating = rng.choice(("satisfied", "basically_satisfied", "dissatisfied"))
    # (weight, command): the dead ends (reject, merge) are rare so walks go deep.
    choices = [
        (1, lambda: receive(complainant=rng.choice((COMPLAINANT, None)))),
        (4, lambda: AcceptComplaint(by)),
        (1, lambda: RejectComplaint("不予受理", by)),
        (1, lambda: MergeComplaint(rng.choice((ID, "C-2026-000007")), by)),
        (
            4,
            lambda: DispatchComplaint(
                rng.choice((UNIT, OTHER_UNIT)), "单位", limit, by
            ),
        ),
        (5, lambda: SignComplaint(handler)),
        (3, lambda: ReturnComplaint("不归我们", handler)),
        (3, lambda: RequestExtension(rng.randint(1, 3), "忙", handler)),
        (3, lambda: ApproveExtension(SUPERVISOR)),
        (2, lambda: RefuseExtension("不行", SUPERVISOR)),
        (3, lambda: ReplyComplaint("办好了", handler, rng.choice((True, None)))),
        (4, lambda: GiveFeedback("已告知", by)),
        (4, lambda: RateComplaint(rating, by)),
        (3, lambda: CloseComplaint(SUPERVISOR, ruling=rng.choice((None, "裁定办结")))),
        (2, lambda: UrgeComplaint(by)),
        (2, lambda: EscalateComplaint("督办", by)),
        (4, MarkOverdue),
        (4, RemindDeadline),
    ]
    weights, makers = zip(*choices, strict=True)
    return rng.choices(makers, weights)[0]()


def _walk(seed: int, steps: int = 60) -> None:
    rng = random.Random(seed)
    history: list[NewEvent] = []
    now = at(1, 5, 9)
    for step in range(steps):
        cmd = receive() if step == 0 else _random_command(rng)
        now += timedelta(minutes=rng.randint(1, 60 * 36))
        where = f"seed {seed}, step {step}: {cmd!r} at {now.isoformat()}"
        state = fold(history)
        try:
            events = decide(state, cmd, now, CAL)
        except DomainError:
            assert fold(history) == state, where  # refusing changes nothing
            continue
        assert events and all(isinstance(e, NewEvent) for e in events), where
        assert state.status not in TERMINAL, where
        for event in events:
            json.dumps(event.data)
            assert list(_floats(event.data)) == [], where
            assert event.occurred_at == now, where
        history += events
        after = fold(history)
        assert after.status in STATUSES, where
        if after.status == "in_progress":
            assert after.due_at is not None and after.clock_started_at, where
    for kind in ("ComplaintOverdue", "ComplaintDeadlineNear"):
        deadlines = [e.data["due_at"] for e in history if e.type == kind]
        assert len(deadlines) == len(set(deadlines)), f"seed {seed}: {kind} twice"


def test_random_walks_only_ever_refuse_with_domain_errors_or_move_on():
    for seed in range(300):
        _walk(seed)
