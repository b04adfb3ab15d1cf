"""Unit assessment (考核), pure: periods, and the scores of units from their marks.

No SQL, no clock, no nameko. A mark is an assessed event a unit drew (see
contracts.assessment.ASSESSED_EVENTS); the rule table is the district's
(services/directory/rules.py, points as decimal strings). Points are never stored:
`score` applies the table to the marks each time, so a changed table re-scores
every period, and every point taken off is a deduction naming its event.

Decisions, each a rule of the campaign office's that a reader can check:
- Every rule an event matches deducts (rules in one item should filter apart).
- An item's deductions stop at its points: they count in the order the events
  occurred, so `counted` shows which event reached the cap and which came after.
- Ranking: the higher score first; equal scores share a rank and the next rank
  skips (1, 2, 2, 4), since nothing in the rules tells two equal units apart.
- The bottom N: the units holding the N lowest scores, all of a tie at the
  boundary included (the interview is not decided by alphabetical order), and
  never a unit that lost no points (with fewer than N such units, fewer are named).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from contracts.assessment import PERIOD
from eventlog.deadlines import TZ

HUNDRED = Decimal(100)


class AssessmentError(Exception):
    pass


class Invalid(AssessmentError):
    pass


class NotFound(AssessmentError):
    pass


class IllegalTransition(AssessmentError):
    pass


class NotDue(AssessmentError):
    pass


@dataclass(frozen=True)
class Period:
    code: str
    starts: datetime  # inclusive, Asia/Shanghai
    ends: datetime  # exclusive

    def holds(self, at: datetime) -> bool:
        return self.starts <= at < self.ends


@dataclass(frozen=True)
class Mark:
    event_id: str
    unit: str
    type: str
    data: Mapping
    stream_id: str
    position: int
    occurred_at: datetime


def _month(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=TZ)


def parse_period(code: str | None, now: datetime) -> Period:
    """The period `code` names (the current year when None); Invalid if it is not
    one or has not begun."""
    if code is None:
        code = str(now.astimezone(TZ).year)
    found = PERIOD.fullmatch(code) if isinstance(code, str) else None
    if found is None:
        raise Invalid(f"{str(code)[:20]!r} is not a period: YYYY, YYYY-Qn or YYYY-MM")
    year = int(found["year"])
    if found["month"]:
        first, months = int(found["month"]), 1
    elif found["quarter"]:
        first, months = 3 * int(found["quarter"]) - 2, 3
    else:
        first, months = 1, 12
    starts, ends = _month(year, first), _month(year, first + months)
    if starts > now:
        raise Invalid(
            f"the period {code} has not begun (it begins {starts.date().isoformat()})"
        )
    return Period(code, starts, ends)


def _word(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)  # as YAML


def describe(rule: Mapping) -> str:
    """`ComplaintRated[rating=dissatisfied]`: the rule, as a deduction names it."""
    where = rule.get("where") or {}
    if not where:
        return rule["event"]
    parts = (
        f"{k}={'|'.join(map(_word, v)) if isinstance(v, list) else _word(v)}"
        for k, v in sorted(where.items())
    )
    return f"{rule['event']}[{','.join(parts)}]"


def _equal(found, wanted) -> bool:
    return type(found) is type(wanted) and found == wanted  # True is not 1


def matches(rule: Mapping, mark: Mark) -> bool:
    if rule["event"] != mark.type:
        return False
    for key, wanted in (rule.get("where") or {}).items():
        options = wanted if isinstance(wanted, list) else [wanted]
        if not any(_equal(mark.data.get(key), option) for option in options):
            return False
    return True


def _deduction(item: Mapping, rule: Mapping, mark: Mark) -> dict:
    return {
        "event_id": str(mark.event_id),
        "type": mark.type,
        "stream_id": mark.stream_id,
        "position": mark.position,
        "occurred_at": mark.occurred_at.isoformat(),
        "item": item["code"],
        "rule": describe(rule),
        "points": Decimal(rule["points"]),
    }


def _item(item: Mapping, marks: Sequence[Mark]) -> tuple[dict, list[dict]]:
    """The item's score, and its deductions in the order the events occurred."""
    cap = Decimal(item["points"])
    remaining = cap
    deductions = []
    for mark in marks:
        for rule in item["deductions"]:
            if matches(rule, mark):
                d = _deduction(item, rule, mark)
                d["counted"] = min(d["points"], remaining)
                remaining -= d["counted"]
                deductions.append(d)
    scored = {
        "code": item["code"],
        "name": item["name"],
        "points": cap,
        "deducted": cap - remaining,
        "score": remaining,
    }
    return scored, deductions


def _unit(unit: Mapping, items: Sequence[Mapping], marks: Sequence[Mark]) -> dict:
    scored, deductions = [], []
    for item in items:
        one, taken = _item(item, marks)
        scored.append(one)
        deductions.extend(taken)
    deducted = sum((i["deducted"] for i in scored), Decimal(0))
    order = {str(m.event_id): i for i, m in enumerate(marks)}  # as they occurred
    deductions.sort(key=lambda d: order[d["event_id"]])  # stable: items in order
    return {
        "unit": unit["code"],
        "name": unit["name"],
        "score": HUNDRED - deducted,
        "deducted": deducted,
        "items": scored,
        "deductions": deductions,
    }


def _ranked(results: list[dict], bottom: int) -> list[dict]:
    results.sort(key=lambda r: (-r["score"], r["unit"]))
    for r in results:
        r["rank"] = 1 + sum(other["score"] > r["score"] for other in results)
    lost = sorted(r["score"] for r in results if r["deducted"] > 0)
    line = lost[min(bottom, len(lost)) - 1] if bottom and lost else None
    for r in results:
        flagged = line is not None and r["deducted"] > 0 and r["score"] <= line
        r["admonishing_interview"], r["award_eligible"] = flagged, not flagged
    return results


def score(
    rules: Mapping, units: Iterable[Mapping], marks: Iterable[Mark], period: Period
) -> list[dict]:
    """Every unit of `units` ({code, name}), ranked, with its items and deductions.

    Marks outside the period, or of a unit not among `units`, count for nothing.
    Numbers are Decimals (see `plain` for JSON)."""
    by_unit: dict[str, list[Mark]] = defaultdict(list)
    for mark in sorted(marks, key=lambda m: (m.occurred_at, m.position)):
        if period.holds(mark.occurred_at):
            by_unit[mark.unit].append(mark)
    results = [_unit(u, rules["items"], by_unit.get(u["code"], [])) for u in units]
    return _ranked(results, rules.get("bottom", 3))


def plain(value):
    """Decimals as JSON numbers, all the way down."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def decimal_text(value: Decimal) -> str:
    """As events carry decimals: 97.50 -> "97.5", 98.00 -> "98"."""
    return format(value.normalize(), "f")
