"""Clues and cases, decided and evolved in memory: every transition, every refusal."""

import pytest

from eventlog.model import Actor
from services.accountability import domain as d
from services.accountability.domain import (
    AssessExemption,
    CloseCase,
    Decide,
    DecideAppeal,
    DismissClue,
    FileClue,
    IllegalTransition,
    Invalid,
    MarkReference,
    NotifySubject,
    OpenCase,
    PublishBulletin,
    RecordFindings,
    RegisterClue,
    Settings,
    StartVerification,
)
from tests.unit.stories import at, storyteller, types

INSPECTOR = Actor("insp-1", "inspector")
SYSTEM = Actor("accountability", "system")
given_clue = storyteller(lambda s, c, n, _: d.decide_clue(s, c, n), d.fold_clue, None)
given_case = storyteller(lambda s, c, n, _: d.decide_case(s, c, n), d.fold_case, None)

CLUE_ID = d.clue_id_for("binhai", "complaint", "C-2026-AAAAAAAA")
OVERDUE = RegisterClue(
    id=CLUE_ID,
    kind="complaint_overdue",
    unit="approvals",
    summary="投诉超期",
    source_type="complaint",
    source_id="C-2026-AAAAAAAA",
    by=SYSTEM,
    trigger_event_id="e-1",
)
LEADERS = (("main_leader", "zhang-wei"), ("leader_in_charge", "liu-fang"))
OPENED = OpenCase(
    id="CA-2026-AAAAAAAA",
    unit="approvals",
    subject="qian-lei",
    subject_role="official",
    origin="clue",
    by=INSPECTOR,
    clue_id=CLUE_ID,
)
FOUND = RecordFindings("拖延办理", True, INSPECTOR)
NOT_FOUND = RecordFindings("查无实据", False, INSPECTOR)


def decide(*measures, settings=None, collective=False):
    return Decide(
        tuple(measures),
        "理由",
        INSPECTOR,
        collective_decision=collective,
        settings=settings or Settings(),
        leaders=LEADERS,
    )


def exempt(*grounds, outcome="exempt"):
    return AssessExemption(outcome, tuple(grounds), "落实改革部署，未谋私利", INSPECTOR)


INVESTIGATED = ((OPENED, at(10, 13)), (FOUND, at(10, 14)))
DECIDED = (*INVESTIGATED, (decide("admonishment_talk"), at(10, 15)))
NOTIFIED = (*DECIDED, (NotifySubject(INSPECTOR), at(10, 16)))


# Clues ---------------------------------------------------------------------------


def test_one_clue_per_source_however_often_it_is_raised():
    story = given_clue((OVERDUE, at(10, 12)))
    assert story.when(OVERDUE, at(10, 12, 11)) == []  # the same event again
    again = story.when(
        RegisterClue(**{**OVERDUE.__dict__, "trigger_event_id": "e-2"}), at(10, 20)
    )
    assert types(again) == ["ClueGroundAdded"]
    registered = story.history[0]
    assert registered.data["mandatory"] is False
    assert registered.data["source"] == {"type": "complaint", "id": "C-2026-AAAAAAAA"}


def test_the_clue_id_is_the_sources_in_its_district():
    assert d.clue_id_for("binhai", "complaint", "C-1") == d.clue_id_for(
        "binhai", "complaint", "C-1"
    )
    assert d.clue_id_for("binhai", "complaint", "C-1") != d.clue_id_for(
        "jinghai", "complaint", "C-1"
    )


def test_a_mandatory_trigger_is_marked_so():
    cmd = RegisterClue(
        id="CL-2026-AAAAAAAA",
        kind="project_stuck",
        unit="development_reform",
        summary="项目卡在审批环节",
        source_type="manual",
        source_id=None,
        by=INSPECTOR,
    )
    assert given_clue().when(cmd, at(10, 1))[0].data["mandatory"] is True


def test_a_clue_is_verified_before_it_is_filed_or_dismissed():
    story = given_clue((OVERDUE, at(10, 12)))
    for cmd in (
        FileClue("CA-2026-AAAAAAAA", "立案", INSPECTOR),
        DismissClue("不属实", INSPECTOR),
    ):
        with pytest.raises(IllegalTransition, match="registered; cannot"):
            story.when(cmd, at(10, 13))
    story = given_clue(
        (OVERDUE, at(10, 12)), (StartVerification(INSPECTOR), at(10, 13))
    )
    filed = story.when(
        FileClue("CA-2026-AAAAAAAA", "立案", INSPECTOR, "qian-lei"), at(10, 14)
    )
    assert filed[0].data == {"case_id": "CA-2026-AAAAAAAA", "subject": "qian-lei"}
    assert filed[0].reason == "立案"
    dismissed = story.when(DismissClue("查无实据", INSPECTOR), at(10, 14))
    assert types(dismissed) == ["ClueDismissed"] and dismissed[0].reason == "查无实据"


def test_a_filed_clue_is_final():
    story = given_clue(
        (OVERDUE, at(10, 12)),
        (StartVerification(INSPECTOR), at(10, 13)),
        (DismissClue("查无实据", INSPECTOR), at(10, 14)),
    )
    with pytest.raises(IllegalTransition, match="dismissed"):
        story.when(FileClue("CA-2026-AAAAAAAA", "立案", INSPECTOR), at(10, 15))


# Decisions and dual investigation ------------------------------------------------


def test_measures_are_kept_lightest_first_with_the_severity_of_the_heaviest():
    events = given_case(*INVESTIGATED).when(
        decide("warning", "criticism_education", "warning"), at(10, 15)
    )
    decided = events[0].data
    assert decided["measures"] == ["criticism_education", "warning"]
    assert decided["severity"] == d.SEVERITY["warning"]


def test_a_serious_decision_opens_dual_investigation_of_both_leaders():
    events = given_case(*INVESTIGATED).when(
        decide("admonishment_talk", collective=True), at(10, 15)
    )
    assert types(events) == ["CaseDecided", "CaseLinked", "CaseLinked"]
    assert events[0].data["collective_decision"] is True  # recorded, exempts nobody
    links = {e.data["relation"]: e.data["case_id"] for e in events[1:]}
    assert links == {
        "main_leader": d.dual_case_id(OPENED.id, "main_leader"),
        "leader_in_charge": d.dual_case_id(OPENED.id, "leader_in_charge"),
    }


def test_a_lighter_decision_opens_none_and_the_threshold_is_the_districts():
    story = given_case(*INVESTIGATED)
    assert types(story.when(decide("self_examination"), at(10, 15))) == ["CaseDecided"]
    strict = Settings(dual_investigation_from="criticism_education")
    assert len(story.when(decide("self_examination", settings=strict), at(10, 15))) == 3
    lax = Settings(dual_investigation_from="suspension")
    assert len(story.when(decide("public_criticism", settings=lax), at(10, 15))) == 1


def test_a_leaders_own_case_opens_no_further_dual_investigation():
    leader = OpenCase(
        id="CA-D-0000000000000000",
        unit="approvals",
        subject="zhang-wei",
        subject_role="main_leader",
        origin="dual_investigation",
        by=INSPECTOR,
        linked_from=OPENED.id,
    )
    story = given_case((leader, at(10, 15)), (FOUND, at(10, 16)))
    assert types(story.when(decide("removal"), at(10, 17))) == ["CaseDecided"]


def test_the_main_leader_as_subject_is_not_investigated_twice():
    own = OpenCase(**{**OPENED.__dict__, "subject": "zhang-wei"})
    story = given_case((own, at(10, 13)), (FOUND, at(10, 14)))
    events = story.when(decide("admonishment_talk"), at(10, 15))
    assert [e.data["relation"] for e in events[1:]] == ["leader_in_charge"]


def test_unsubstantiated_findings_close_the_case_without_a_decision():
    story = given_case((OPENED, at(10, 13)), (NOT_FOUND, at(10, 14)))
    with pytest.raises(IllegalTransition, match="did not substantiate"):
        story.when(decide("criticism_education"), at(10, 15))
    closed = story.when(CloseCase(INSPECTOR), at(10, 15))
    assert closed[0].data == {"outcome": "unsubstantiated"}


def test_a_substantiated_case_is_not_closed_without_a_decision_or_exemption():
    with pytest.raises(IllegalTransition, match="decide or exempt"):
        given_case(*INVESTIGATED).when(CloseCase(INSPECTOR), at(10, 15))


# Exemption -----------------------------------------------------------------------


def test_exemption_needs_no_personal_gain_and_one_more_ground():
    story = given_case(*INVESTIGATED)
    with pytest.raises(Invalid, match="no_personal_gain"):
        story.when(exempt("reform_or_pilot", "diligent"), at(10, 15))
    with pytest.raises(Invalid, match="besides"):
        story.when(exempt("no_personal_gain"), at(10, 15))
    events = story.when(exempt("reform_or_pilot", "no_personal_gain"), at(10, 15))
    assert events[0].data["grounds"] == ["reform_or_pilot", "no_personal_gain"]
    assert events[0].data["reasoning"] == "落实改革部署，未谋私利"
    assert (
        given_case(
            *INVESTIGATED, (exempt("reform_or_pilot", "no_personal_gain"), at(10, 15))
        ).state.status
        == "exempted"
    )


def test_an_exempted_case_becomes_a_reference_case_once_and_closes():
    story = given_case(
        *INVESTIGATED, (exempt("diligent", "no_personal_gain"), at(10, 15))
    )
    with pytest.raises(IllegalTransition, match="exempted; cannot decide"):
        story.when(decide("admonishment_talk"), at(10, 16))
    marked = given_case(
        *INVESTIGATED,
        (exempt("diligent", "no_personal_gain"), at(10, 15)),
        (MarkReference(INSPECTOR), at(10, 16)),
    )
    with pytest.raises(IllegalTransition, match="already"):
        marked.when(MarkReference(INSPECTOR), at(10, 17))
    assert marked.when(CloseCase(INSPECTOR), at(10, 17))[0].data == {
        "outcome": "exempted"
    }


def test_mitigation_is_carried_into_the_decision_and_a_refusal_changes_nothing():
    mitigated = given_case(
        *INVESTIGATED,
        (exempt("diligent", "no_personal_gain", outcome="mitigate"), at(10, 15)),
    )
    assert (
        mitigated.when(decide("criticism_education"), at(10, 16))[0].data["mitigated"]
        is True
    )
    refused = given_case(*INVESTIGATED, (exempt(outcome="refused"), at(10, 15)))
    assert refused.state.status == "investigated"
    with pytest.raises(IllegalTransition, match="assessed already"):
        refused.when(exempt("diligent", "no_personal_gain"), at(10, 16))


def test_only_an_exempted_case_is_a_reference_case():
    closed = given_case(
        (OPENED, at(10, 13)),
        (NOT_FOUND, at(10, 14)),
        (CloseCase(INSPECTOR), at(10, 15)),
    )
    with pytest.raises(IllegalTransition, match="not exempted"):
        closed.when(MarkReference(INSPECTOR), at(10, 16))


# Notification, appeal, closing ---------------------------------------------------


def test_the_subject_is_served_with_the_districts_appeal_period():
    events = given_case(*DECIDED).when(
        NotifySubject(INSPECTOR, settings=Settings(appeal_days=15)), at(10, 16)
    )
    assert events[0].data == {"subject": "qian-lei", "appeal_until": "2026-10-31"}


def test_an_appeal_in_time_is_decided_and_a_late_one_refused():
    story = given_case(*NOTIFIED)  # served 16 Oct: appeal until 15 Nov
    with pytest.raises(IllegalTransition, match="ended on 2026-11-15"):
        story.when(d.Appeal("不服", INSPECTOR), at(11, 16))
    appealed = given_case(*NOTIFIED, (d.Appeal("不服", INSPECTOR), at(11, 15)))
    refused = appealed.when(DecideAppeal("refused", "维持", INSPECTOR), at(11, 20))
    assert refused[0].data["measures"] == ["admonishment_talk"]
    revoked = appealed.when(DecideAppeal("revoked", "撤销", INSPECTOR), at(11, 20))
    assert revoked[0].data["measures"] == []
    changed = appealed.when(
        DecideAppeal("changed", "改为批评教育", INSPECTOR, ("criticism_education",)),
        at(11, 20),
    )
    assert changed[0].data["measures"] == ["criticism_education"]
    with pytest.raises(Invalid, match="new measures"):
        appealed.when(DecideAppeal("changed", "x", INSPECTOR), at(11, 20))
    with pytest.raises(Invalid, match="new measures"):
        appealed.when(DecideAppeal("refused", "x", INSPECTOR, ("warning",)), at(11, 20))


def test_a_notified_case_closes_once_the_appeal_period_is_over():
    story = given_case(*NOTIFIED)
    with pytest.raises(IllegalTransition, match="may appeal until 2026-11-15"):
        story.when(CloseCase(INSPECTOR), at(11, 15))
    assert story.when(CloseCase(INSPECTOR), at(11, 16))[0].data == {
        "outcome": "decided"
    }


def test_a_bulletin_once_per_case_and_never_of_a_revoked_decision():
    bulletin = PublishBulletin(
        "BL-2026-AAAAAAAA", "通报", "经查", INSPECTOR, "区行政审批局", "钱磊"
    )
    events = given_case(*DECIDED).when(bulletin, at(10, 16))
    data = events[0].data
    assert (data["unit"], data["subject_name"], data["measures"]) == (
        "approvals",
        "钱磊",
        ["admonishment_talk"],
    )
    assert data["published_on"] == "2026-10-16"
    published = given_case(*DECIDED, (bulletin, at(10, 16)))
    with pytest.raises(IllegalTransition, match="already"):
        published.when(bulletin, at(10, 17))
    revoked = given_case(
        *NOTIFIED,
        (d.Appeal("不服", INSPECTOR), at(10, 20)),
        (DecideAppeal("revoked", "撤销", INSPECTOR), at(10, 25)),
    )
    with pytest.raises(IllegalTransition, match="revoked"):
        revoked.when(bulletin, at(10, 26))


@pytest.mark.parametrize(
    "cmd",
    [
        NotifySubject(INSPECTOR),
        d.Appeal("不服", INSPECTOR),
        DecideAppeal("refused", "维持", INSPECTOR),
        FOUND,
    ],
)
def test_steps_out_of_order_are_refused_naming_the_state(cmd):
    with pytest.raises(IllegalTransition, match="is investigated; cannot"):
        given_case(*INVESTIGATED).when(cmd, at(10, 15))


def test_a_case_is_opened_once():
    with pytest.raises(IllegalTransition, match="exists"):
        given_case((OPENED, at(10, 13))).when(OPENED, at(10, 14))


def test_settings_come_from_the_directory_with_defaults():
    assert Settings.of(None) == Settings("admonishment_talk", 30)
    assert Settings.of({"appeal_days": 15}) == Settings("admonishment_talk", 15)
