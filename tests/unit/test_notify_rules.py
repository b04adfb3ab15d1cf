"""Who is told what, in which words, and when: notify's rules, templates, schedule."""

from datetime import datetime, time, timedelta

import pytest

from eventlog.deadlines import TZ
from services.notify import rules, schedule, templates
from services.notify.plan import notification_id


def at(hour, minute=0, day=14) -> datetime:
    return datetime(2026, 9, day, hour, minute, tzinfo=TZ)


# ---- rules ---------------------------------------------------------------------------


def test_every_kind_has_a_chinese_default_template_that_renders():
    for kind in rules.KINDS:
        title, body = templates.render(*templates.default(kind), templates.sample(kind))
        assert title and body and "\n" not in title
        assert any("\u4e00" <= ch <= "\u9fff" for ch in title + body), kind


def test_a_dispatched_complaint_tells_the_complainant_and_the_unit():
    told = {
        (r.recipient, r.channels) for r in rules.for_event("ComplaintDispatched", {})
    }
    assert told == {("complainant", ("contact",)), ("unit", ("email", "inbox"))}


def test_a_district_sets_a_kinds_channels_or_switches_it_off():
    overrides = {
        "complaint_dispatched.unit": ["sms"],
        "complaint_dispatched.complainant": [],
    }
    found = rules.for_event("ComplaintDispatched", overrides)
    assert [(r.kind, r.channels) for r in found] == [
        ("complaint_dispatched.unit", ("sms",))
    ]
    assert rules.for_event("ComplaintDispatched", {}) != found  # others unchanged


@pytest.mark.parametrize(
    "kind, channels, wrong",
    [
        ("complaint_dispatched.unit", ["contact"], "contact"),
        ("complaint_dispatched.complainant", ["inbox"], "inbox"),
        ("complaint_returned.intake", ["sms"], "sms"),
    ],
)
def test_a_channel_that_does_not_fit_the_recipient_is_refused(kind, channels, wrong):
    with pytest.raises(rules.RuleError, match=wrong):
        rules.check(kind, channels)


def test_an_unknown_kind_is_refused_naming_the_kinds():
    with pytest.raises(rules.RuleError, match="complaint_dispatched.unit"):
        rules.check("complaint_dispatched.everyone", ["email"])


def test_channels_are_kept_once_each_in_order():
    assert rules.check("case_decided.subject", ["sms", "email", "sms"]) == (
        "sms",
        "email",
    )


@pytest.mark.parametrize(
    "came_by, phone, email, expected",
    [
        ("12345", "13700001111", "a@example.com", ["sms"]),
        ("web", "13700001111", "a@example.com", ["email"]),
        ("web", "13700001111", None, ["sms"]),
        ("letter", None, "a@example.com", ["email"]),
        ("visit", None, None, []),
    ],
)
def test_the_complainant_is_reached_by_the_way_they_came_in(
    came_by, phone, email, expected
):
    contact = {"channel": came_by, "anonymous": False, "phone": phone, "email": email}
    assert rules.complainant_channels(("contact",), contact) == expected


def test_an_anonymous_complainant_is_told_nothing():
    contact = {"channel": "12388", "anonymous": True, "phone": "1370000", "email": None}
    assert rules.complainant_channels(("contact", "sms"), contact) == []


def test_an_explicit_channel_needs_the_address_for_it():
    contact = {
        "channel": "12345",
        "anonymous": False,
        "phone": "1370000",
        "email": None,
    }
    assert rules.complainant_channels(("email", "sms"), contact) == ["sms"]


# ---- templates -----------------------------------------------------------------------


def test_staff_templates_know_nothing_of_the_complainant():
    staff = [k for k, r in rules.KINDS.items() if r.recipient != "complainant"]
    for kind in staff:
        assert "complainant_name" not in templates.sample(kind)
        assert "complainant_name" not in templates.variables(kind)
    with pytest.raises(templates.TemplateProblem, match="complainant_name"):
        templates.check("complaint_dispatched.unit", "转办", "{{ complainant_name }}")
    templates.check(
        "complaint_dispatched.complainant", "转办", "{{ complainant_name }}"
    )


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ref.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ 'x' * 100000 }}",
        "{{ 9 ** 99999 }}",
        "{% for x in range(10) %}",
        "{{ no_such_variable }}",
        "{{ measures[5] }}",
    ],
)
def test_a_template_that_would_not_render_safely_is_refused(body):
    with pytest.raises(templates.TemplateProblem):
        templates.check("complaint_dispatched.unit", "标题", body)


def test_the_title_is_one_line_and_text_is_not_escaped():
    with pytest.raises(templates.TemplateProblem, match="one non-empty line"):
        templates.check("complaint_dispatched.unit", "{{ '' }}", "正文")
    title, body = templates.render(
        "<{{ ref }}>", "{{ unit_name }} & 你", {"ref": "C", "unit_name": "甲"}
    )
    assert (title, body) == ("<C>", "甲 & 你")


def test_a_default_file_is_title_then_body():
    title, body = templates.default("complaint_dispatched.unit")
    assert "{{ ref }}" in title and "{{ unit_name }}" in body


# ---- schedule ------------------------------------------------------------------------


QUIET = (time(21), time(8))


@pytest.mark.parametrize(
    "now, released",
    [
        (at(22), at(8, day=15)),
        (at(21), at(8, day=15)),
        (at(7, 59), at(8)),
        (at(8), at(8)),
        (at(12), at(12)),
        (at(20, 59), at(20, 59)),
    ],
)
def test_an_sms_in_quiet_hours_waits_for_the_morning(now, released):
    assert schedule.release(now, "sms", QUIET) == released


def test_email_and_inbox_are_not_held():
    assert schedule.release(at(23), "email", QUIET) == at(23)
    assert schedule.release(at(23), "inbox", QUIET) == at(23)


def test_a_daytime_window_and_the_district_table():
    assert schedule.release(at(13), "sms", (time(12), time(14))) == at(14)
    assert schedule.release(at(15), "sms", (time(12), time(14))) == at(15)
    table = schedule.quiet_hours('{"jinghai": "22:30-07:00"}')
    assert table["*"] == QUIET and table["jinghai"] == (time(22, 30), time(7))
    assert schedule.quiet_hours({"binhai": "20:00-09:00"})["binhai"][0] == time(20)
    with pytest.raises(ValueError, match="HH:MM"):
        schedule.quiet_hours({"binhai": "9pm-8am"})


def test_retries_back_off_then_give_up():
    waits = [schedule.retry_at(at(12), n) - at(12) for n in range(1, 5)]
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert schedule.retry_at(at(12), schedule.MAX_ATTEMPTS) is None


def test_one_notification_id_per_event_recipient_and_channel():
    a = notification_id("e1", "complainant", "sms")
    assert a == notification_id("e1", "complainant", "sms")
    others = {
        notification_id("e2", "complainant", "sms"),
        notification_id("e1", "person:x", "sms"),
        notification_id("e1", "complainant", "email"),
    }
    assert a not in others and len(others) == 3
