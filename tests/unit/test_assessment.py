"""Unit assessment (考核), pure: periods, caps, filters, ranking, the bottom three,
and every point taken off traceable to its event."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from eventlog.deadlines import TZ
from services.accountability.assessment import (
    Invalid,
    Mark,
    describe,
    parse_period,
    plain,
    score,
)
from services.directory.rules import DEFAULT_ASSESSMENT

NOW = datetime(2026, 9, 14, 9, 0, tzinfo=TZ)
SEPTEMBER = parse_period("2026-09", NOW)
UNITS = [
    {"code": code, "name": name}
    for code, name in (
        ("approvals", "区行政审批局"),
        ("housing", "区住房和建设委员会"),
        ("ecology", "区生态环境局"),
        ("health", "区卫生健康委员会"),
        ("tanggu_street", "塘沽街道办事处"),
    )
]
RULES = {
    "bottom": 3,
    "items": [
        {
            "code": "work_style",
            "name": "作风建设考核",
            "points": "90",
            "deductions": [
                {"event": "ComplaintOverdue", "where": {}, "points": "2"},
                {"event": "ComplaintReturned", "where": {}, "points": "0.5"},
                {
                    "event": "CaseDecided",
                    "where": {"subject_role": "official", "mitigated": False},
                    "points": "3",
                },
                {
                    "event": "CaseDecided",
                    "where": {"subject_role": ["main_leader", "leader_in_charge"]},
                    "points": "1",
                },
            ],
        },
        {
            "code": "public_appraisal",
            "name": "千人评议",
            "points": "10",
            "deductions": [
                {
                    "event": "ComplaintRated",
                    "where": {"rating": "dissatisfied"},
                    "points": "4",
                },
            ],
        },
    ],
}
_position = iter(range(1000, 10**6))


def mark(unit, type_="ComplaintOverdue", at=None, **data) -> Mark:
    return Mark(
        event_id=str(uuid4()),
        unit=unit,
        type=type_,
        data={"unit": unit, **data},
        stream_id=f"complaint-C-2026-{uuid4().hex[:8].upper()}",
        position=next(_position),
        occurred_at=at or datetime(2026, 9, 3, 10, 0, tzinfo=TZ),
    )


def by_unit(results) -> dict:
    return {r["unit"]: r for r in results}


def item(result, code) -> dict:
    return next(i for i in result["items"] if i["code"] == code)


def taken(result, code) -> list[dict]:
    """The unit's deductions under one item."""
    return [d for d in result["deductions"] if d["item"] == code]


# ---- periods -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, starts, ends",
    [
        ("2026", datetime(2026, 1, 1), datetime(2027, 1, 1)),
        ("2026-Q3", datetime(2026, 7, 1), datetime(2026, 10, 1)),
        ("2025-Q4", datetime(2025, 10, 1), datetime(2026, 1, 1)),
        ("2026-09", datetime(2026, 9, 1), datetime(2026, 10, 1)),
        ("2025-12", datetime(2025, 12, 1), datetime(2026, 1, 1)),
    ],
)
def test_periods_are_years_quarters_and_months_in_shanghai_time(code, starts, ends):
    period = parse_period(code, NOW)
    assert (period.starts, period.ends) == (
        starts.replace(tzinfo=TZ),
        ends.replace(tzinfo=TZ),
    )
    assert period.starts.utcoffset() == timedelta(hours=8)


def test_without_a_period_the_current_year_in_shanghai_is_meant():
    assert parse_period(None, NOW).code == "2026"
    new_year_in_shanghai = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert parse_period(None, new_year_in_shanghai).code == "2027"


@pytest.mark.parametrize("code", ["2026-10", "2026-Q4", "2027"])
def test_a_period_not_begun_is_refused(code):
    with pytest.raises(Invalid, match=f"the period {code} has not begun"):
        parse_period(code, NOW)


@pytest.mark.parametrize("code", ["2026-13", "2026-Q5", "26", "2026-9", "2026-q3", ""])
def test_a_malformed_period_is_refused(code):
    with pytest.raises(Invalid, match="is not a period"):
        parse_period(code, NOW)


def test_a_period_begins_at_midnight_in_shanghai_not_utc():
    just_before = datetime(2026, 8, 31, 23, 59, tzinfo=TZ)
    first_second = datetime(2026, 9, 1, 0, 0, tzinfo=TZ)
    assert not SEPTEMBER.holds(just_before) and SEPTEMBER.holds(first_second)
    assert not SEPTEMBER.holds(datetime(2026, 10, 1, 0, 0, tzinfo=TZ))


# ---- scores --------------------------------------------------------------------------


def test_every_unit_is_scored_even_without_marks():
    results = score(RULES, UNITS, [], SEPTEMBER)
    assert [r["unit"] for r in results] == sorted(u["code"] for u in UNITS)
    assert {r["score"] for r in results} == {Decimal(100)}
    assert {r["rank"] for r in results} == {1}
    assert not any(r["admonishing_interview"] for r in results)


def test_each_deduction_names_its_event_item_and_rule():
    overdue = mark("approvals", due_at="2026-09-02T23:59:59+08:00")
    returned = mark("approvals", "ComplaintReturned", clock_paused=False)
    results = by_unit(score(RULES, UNITS, [overdue, returned], SEPTEMBER))
    approvals = results["approvals"]
    assert approvals["score"] == Decimal("97.5")
    assert approvals["deducted"] == Decimal("2.5")
    [first, second] = approvals["deductions"]
    assert first == {
        "event_id": overdue.event_id,
        "type": "ComplaintOverdue",
        "stream_id": overdue.stream_id,
        "position": overdue.position,
        "occurred_at": overdue.occurred_at.isoformat(),
        "item": "work_style",
        "rule": "ComplaintOverdue",
        "points": Decimal(2),
        "counted": Decimal(2),
    }
    assert (second["event_id"], second["counted"]) == (
        returned.event_id,
        Decimal("0.5"),
    )
    # what the deductions counted is exactly what the unit lost
    counted = sum(d["counted"] for d in approvals["deductions"])
    assert 100 - counted == approvals["score"]


def test_filters_match_the_events_public_data_and_lists_mean_any_of():
    marks = [
        mark("housing", "ComplaintRated", rating="dissatisfied"),
        mark("housing", "ComplaintRated", rating="satisfied"),
        mark("housing", "CaseDecided", subject_role="official", mitigated=False),
        mark("housing", "CaseDecided", subject_role="official", mitigated=True),
        mark("housing", "CaseDecided", subject_role="main_leader", mitigated=False),
        mark("housing", "CaseDecided", subject_role="leader_in_charge"),
    ]
    housing = by_unit(score(RULES, UNITS, marks, SEPTEMBER))["housing"]
    assert item(housing, "public_appraisal")["deducted"] == 4
    assert [d["event_id"] for d in taken(housing, "public_appraisal")] == [
        marks[0].event_id
    ]
    assert item(housing, "work_style")["deducted"] == 3 + 1 + 1
    assert [d["event_id"] for d in taken(housing, "work_style")] == [
        m.event_id for m in (marks[2], marks[4], marks[5])
    ]
    assert [d["rule"] for d in taken(housing, "work_style")] == [
        "CaseDecided[mitigated=false,subject_role=official]",
        "CaseDecided[subject_role=main_leader|leader_in_charge]",
        "CaseDecided[subject_role=main_leader|leader_in_charge]",
    ]
    assert housing["score"] == 100 - 4 - 3 - 1 - 1


def test_a_filter_on_false_does_not_match_zero_or_a_missing_field():
    rule = {"event": "ComplaintReturned", "where": {"clock_paused": False}}
    rules = {"items": [{"code": "x", "name": "x", "points": "100", "deductions": []}]}
    rules["items"][0]["deductions"] = [{**rule, "points": "1"}]
    marks = [
        mark("health", "ComplaintReturned", clock_paused=False),
        mark("health", "ComplaintReturned", clock_paused=0),
        mark("health", "ComplaintReturned"),
    ]
    health = by_unit(score(rules, UNITS, marks, SEPTEMBER))["health"]
    assert health["score"] == 99


def test_an_items_deductions_stop_at_its_points_in_the_order_events_occurred():
    rated = [
        mark(
            "ecology",
            "ComplaintRated",
            at=datetime(2026, 9, day, tzinfo=TZ),
            rating="dissatisfied",
        )
        for day in (5, 1, 3)  # given out of order
    ]
    ecology = by_unit(score(RULES, UNITS, rated, SEPTEMBER))["ecology"]
    appraisal = item(ecology, "public_appraisal")
    assert (appraisal["points"], appraisal["deducted"], appraisal["score"]) == (
        Decimal(10),
        Decimal(10),
        Decimal(0),
    )
    # 4 + 4 reach 8; the third event counts the 2 left of the cap
    assert [
        (d["occurred_at"][:10], d["points"], d["counted"])
        for d in taken(ecology, "public_appraisal")
    ] == [
        ("2026-09-01", Decimal(4), Decimal(4)),
        ("2026-09-03", Decimal(4), Decimal(4)),
        ("2026-09-05", Decimal(4), Decimal(2)),
    ]
    assert ecology["score"] == 90  # the other item is untouched


def test_marks_outside_the_period_or_of_units_not_in_the_directory_count_nothing():
    marks = [
        mark("approvals", at=datetime(2026, 8, 31, 23, 59, tzinfo=TZ)),
        mark("approvals", at=datetime(2026, 10, 1, 0, 0, tzinfo=TZ)),
        mark("dissolved_bureau"),
    ]
    results = score(RULES, UNITS, marks, SEPTEMBER)
    assert {r["score"] for r in results} == {Decimal(100)}
    assert "dissolved_bureau" not in {r["unit"] for r in results}
    q3 = parse_period("2026-Q3", NOW)
    assert by_unit(score(RULES, UNITS, marks, q3))["approvals"]["score"] == 98


def test_ranking_shares_a_rank_between_equal_scores_and_skips_the_next():
    marks = [
        mark("approvals"),  # 98
        mark("housing"),  # 98
        mark("ecology"),
        mark("ecology"),  # 96
    ]
    results = score(RULES, UNITS, marks, SEPTEMBER)
    assert [(r["unit"], r["score"], r["rank"]) for r in results] == [
        ("health", 100, 1),
        ("tanggu_street", 100, 1),
        ("approvals", 98, 3),
        ("housing", 98, 3),
        ("ecology", 96, 5),
    ]


def test_the_bottom_three_lose_award_eligibility_and_get_an_interview():
    marks = [
        *[mark("approvals") for _ in range(1)],  # 98
        *[mark("housing") for _ in range(2)],  # 96
        *[mark("ecology") for _ in range(3)],  # 94
        *[mark("health") for _ in range(4)],  # 92
    ]
    results = by_unit(score(RULES, UNITS, marks, SEPTEMBER))
    flagged = {u for u, r in results.items() if r["admonishing_interview"]}
    assert flagged == {"housing", "ecology", "health"}
    assert all(r["award_eligible"] is (u not in flagged) for u, r in results.items())


def test_a_tie_at_the_bottom_line_flags_every_tied_unit():
    marks = [mark(u) for u in ("approvals", "housing", "ecology", "health")]
    results = score(RULES, UNITS, marks, SEPTEMBER)
    flagged = [r["unit"] for r in results if r["admonishing_interview"]]
    assert flagged == ["approvals", "ecology", "health", "housing"]  # four at 98


def test_a_unit_that_lost_no_points_is_never_in_the_bottom():
    results = score(RULES, UNITS, [mark("approvals")], SEPTEMBER)
    flagged = [r["unit"] for r in results if r["admonishing_interview"]]
    assert flagged == ["approvals"]
    assert [
        r for r in score(RULES, UNITS, [], SEPTEMBER) if r["admonishing_interview"]
    ] == []


def test_the_bottom_count_comes_from_the_rule_table():
    marks = [mark(u) for u in ("approvals", "housing")] + [mark("housing")]
    results = score({**RULES, "bottom": 1}, UNITS, marks, SEPTEMBER)
    assert [r["unit"] for r in results if r["admonishing_interview"]] == ["housing"]
    none = score({**RULES, "bottom": 0}, UNITS, marks, SEPTEMBER)
    assert not any(r["admonishing_interview"] for r in none)


def test_a_changed_rule_table_rescores_the_same_marks():
    marks = [mark("approvals"), mark("approvals", "ComplaintReturned")]
    before = by_unit(score(RULES, UNITS, marks, SEPTEMBER))["approvals"]["score"]
    dearer = {
        **RULES,
        "items": [
            {
                **RULES["items"][0],
                "deductions": [
                    {"event": "ComplaintOverdue", "where": {}, "points": "5"}
                ],
            },
            RULES["items"][1],
        ],
    }
    after = by_unit(score(dearer, UNITS, marks, SEPTEMBER))["approvals"]["score"]
    assert (before, after) == (Decimal("97.5"), Decimal(95))


def test_the_default_table_is_ninety_for_work_style_and_ten_for_appraisal():
    assert [(i["code"], i["points"]) for i in DEFAULT_ASSESSMENT["items"]] == [
        ("work_style", "90"),
        ("public_appraisal", "10"),
    ]
    marks = [
        mark("approvals"),
        mark("approvals", "ComplaintRated", rating="dissatisfied"),
        mark("approvals", "CaseBulletinPublished"),
    ]
    approvals = by_unit(score(DEFAULT_ASSESSMENT, UNITS, marks, SEPTEMBER))
    assert approvals["approvals"]["score"] == 100 - 2 - 1 - 5


def test_describe_and_plain_numbers_for_json():
    assert describe({"event": "ComplaintOverdue", "where": {}}) == "ComplaintOverdue"
    assert plain({"a": [Decimal("97.5"), Decimal("98.00")]}) == {"a": [97.5, 98]}
    assert isinstance(plain(Decimal("98.00")), int)
