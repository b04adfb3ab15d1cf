"""A campaign run over HTTP: self-inspection lists of two units, a suggestion to a
third unit answered, an item sent back and then closed, one overdue; the ledger as
the seeds lay it out; and a complaint handed over becoming an issue."""

import base64
import time
import zipfile
from datetime import datetime
from io import BytesIO

import openpyxl
import psycopg

from eventlog.deadlines import TZ, OfficialCalendar
from eventlog.store import EventStore
from services.issues import handlers
from services.issues.ledger import HEADERS

PHASES = [
    {"phase": "mobilise", "starts_on": "2026-09-01", "ends_on": "2026-09-10"},
    {"phase": "self_inspect", "starts_on": "2026-09-11", "ends_on": "2026-10-31"},
    {
        "phase": "inspect_and_hold_accountable",
        "starts_on": "2026-11-01",
        "ends_on": "2026-11-30",
    },
    {"phase": "summarise", "starts_on": "2026-12-01", "ends_on": "2026-12-20"},
]


def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


def at(platform, *args):
    platform.clock.now = datetime(*args, tzinfo=TZ)


def launch(platform) -> str:
    body = {"name": "滨海新区作风纪律专项整治", "phases": PHASES}
    return ok(platform.post("/v1/campaigns", "campaign_office", json=body), 201)["id"]


def register(platform, unit, **body):
    r = platform.post("/v1/issues", "unit_handler", unit=unit, json=body)
    return ok(r, 201)["id"]


def act(platform, issue_id, action, role, body=None, unit=None):
    r = platform.post(
        f"/v1/issues/{issue_id}/{action}", role, unit=unit, json=body or {}
    )
    return ok(r)


def test_a_campaign_from_self_inspection_to_the_ledger(platform, database):
    at(platform, 2026, 9, 14, 9, 0)
    cid = launch(platform)
    assert ok(platform.get(f"/v1/campaigns/{cid}", "intake"))["name"].endswith(
        "专项整治"
    )
    slow = register(
        platform,
        "approvals",
        campaign_id=cid,
        list="problem",
        manifestation="审批材料反复要求补正",
        responsible="李明",
        supervisor="王建国",
    )
    late = register(
        platform,
        "approvals",
        campaign_id=cid,
        list="problem",
        manifestation="窗口午休无人值守",
        responsible="赵丽",
    )
    better = register(
        platform,
        "approvals",
        campaign_id=cid,
        list="improvement",
        manifestation="一次性告知制度落实不到位",
        responsible="李明",
        supervisor="王建国",
    )
    advice = register(
        platform,
        "approvals",
        campaign_id=cid,
        list="suggestion",
        manifestation="企业登记信息共享不及时",
        suggested_unit="market_regulation",
    )
    housing = register(
        platform,
        "housing",
        campaign_id=cid,
        list="problem",
        manifestation="施工许可办理超时",
        responsible="孙强",
    )

    # The suggested unit must answer before it rectifies.
    r = platform.post(
        f"/v1/issues/{advice}/set_measures",
        "unit_handler",
        unit="market_regulation",
        json={"measures": "x", "at_once": True},
    )
    assert r.status_code == 409, r.text
    act(
        platform,
        advice,
        "answer",
        "unit_handler",
        {"answer": "同意，建立每日推送"},
        unit="market_regulation",
    )
    act(
        platform,
        advice,
        "set_measures",
        "unit_handler",
        {"measures": "每日推送登记信息", "at_once": True},
        unit="market_regulation",
    )

    # Sent back once, then closed on time.
    act(
        platform,
        slow,
        "set_measures",
        "unit_handler",
        {"measures": "制定一次性补正清单", "days": 10},
        unit="approvals",
    )
    act(
        platform,
        slow,
        "report_progress",
        "unit_handler",
        {"progress": "清单已起草"},
        unit="approvals",
    )
    evidence = {"evidence": ["https://files.example.gov.cn/approvals/list.pdf"]}
    act(platform, slow, "submit", "unit_handler", evidence, unit="approvals")
    sent = act(platform, slow, "send_back", "supervisor", {"reason": "清单未公开"})
    assert sent["status"] == "rectifying" and sent["sent_back"] == 1
    act(platform, slow, "submit", "unit_handler", evidence, unit="approvals")
    closed = act(platform, slow, "close", "supervisor", {"note": "已核实"})
    assert closed["status"] == "closed" and closed["closed_on_time"] is True

    # A deadline that passes: overdue, marked once however often the timer runs.
    act(
        platform,
        late,
        "set_measures",
        "unit_handler",
        {"measures": "实行午间轮班", "deadline": "2026-09-19"},
        unit="approvals",
    )
    due = ok(platform.get(f"/v1/issues/{late}", "supervisor"))["due_at"]
    assert due.startswith("2026-09-20T23:59:59")  # Sat 19th is a rest day; Sun 20th
    with psycopg.connect(database.app, autocommit=True) as conn:  # is a workday
        for hours in (0, 1):
            handlers.sweep(
                EventStore(conn),
                datetime(2026, 9, 21, 9 + hours, tzinfo=TZ),
                OfficialCalendar(),
            )
        types = [e.type for e in EventStore(conn).read_stream(f"issue-{late}")]
    assert types.count("IssueOverdue") == 1
    act(
        platform,
        housing,
        "set_measures",
        "unit_handler",
        {"measures": "压缩审批时限", "at_once": True},
        unit="housing",
    )
    act(
        platform,
        better,
        "set_measures",
        "unit_handler",
        {"measures": "上墙公示告知清单", "days": 20},
        unit="approvals",
    )

    # Another unit sees none of approvals' items.
    r = platform.get(f"/v1/issues/{slow}", "unit_handler", unit="housing")
    assert r.status_code == 404
    mine = ok(
        platform.get(f"/v1/issues?campaign_id={cid}", "unit_handler", unit="housing")
    )
    assert [i["id"] for i in mine["items"]] == [housing]

    check_ledger(platform, cid)
    check_campaign_ledger(platform, cid)
    at(platform, 2026, 10, 5, 9, 0)  # the office collects September's figures
    summary = ok(
        platform.get(f"/v1/campaigns/{cid}/summary?period=2026-09", "campaign_office")
    )
    by_unit = {u["unit_name"]: u for u in summary["units"]}
    approvals = by_unit["区行政审批局"]
    assert (approvals["closed"], approvals["closed_on_time"], approvals["overdue"]) == (
        1,
        1,
        1,
    )
    assert approvals["rectifying"] == 2 and approvals["registered"] == 0


def check_campaign_ledger(platform, cid):
    """The campaign office's download: one workbook per unit, in a zip."""
    r = platform.get(f"/v1/campaigns/{cid}/ledger", "campaign_office")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(BytesIO(r.content)).namelist()
    assert names == ["approvals-区行政审批局.xlsx", "housing-区住房和建设委员会.xlsx"]
    assert platform.get(f"/v1/campaigns/{cid}/ledger", "integrator").status_code == 403
    r = platform.get(f"/v1/campaigns/{cid}/ledger?format=csv", "campaign_office")
    assert r.status_code == 422  # a CSV holds one list: which?


def check_ledger(platform, cid):
    r = platform.get(f"/v1/campaigns/{cid}/ledger?unit=approvals", "campaign_office")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    book = openpyxl.load_workbook(BytesIO(r.content))
    assert (
        book["附件1"]["A2"].value == "（区行政审批局）查摆出作风纪律、工作流程问题清单"
    )
    assert book.sheetnames[:3] == ["附件1", "附件2", "附件3"]
    rows = {
        name: list(book[name].iter_rows(values_only=True))
        for name in book.sheetnames[:3]
    }
    problem, improvement, suggestion = (rows["附件1"], rows["附件2"], rows["附件3"])
    assert (
        problem[2]
        == HEADERS["problem"]
        == (
            "序号",
            "作风纪律、工作流程问题具体表现",
            "责任人",
            "整改措施",
            "整改进展情况",
            "监督",
        )
    )
    assert problem[3] == (
        1,
        "审批材料反复要求补正",
        "李明",
        "制定一次性补正清单",
        "清单已起草",
        "王建国",
    )
    assert problem[4][:4] == (2, "窗口午休无人值守", "赵丽", "实行午间轮班")
    assert improvement[2] == (
        "序号",
        "改进作风纪律、理顺工作流程具体表现",
        "责任人",
        "改进措施",
        "监督责任人",
    )
    assert improvement[3] == (
        1,
        "一次性告知制度落实不到位",
        "李明",
        "上墙公示告知清单",
        "王建国",
    )
    assert suggestion[2] == ("序号", "单位名称", "改进作风纪律、理顺工作流程具体表现")
    assert suggestion[3] == (1, "区市场监督管理局", "企业登记信息共享不及时")
    csv = platform.get(
        f"/v1/campaigns/{cid}/ledger?format=csv&list=problem&unit=approvals",
        "campaign_office",
    )
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert "审批材料反复要求补正" in csv.content.decode("utf-8-sig")


def test_a_complaint_handed_over_becomes_an_issue_linked_to_it(platform):
    at(platform, 2026, 9, 14, 9, 0)
    cid = launch(platform)
    r = platform.post(
        "/v1/complaints",
        "intake",
        json={
            "channel": "12345",
            "category": "shirking",
            "description": "三个部门互相推诿",
            "complainant": {"name": "周八", "phone": "13500005555"},
        },
    )
    complaint = ok(r, 201)["id"]
    ok(platform.post(f"/v1/complaints/{complaint}/accept", "intake", json={}))
    handed = platform.post(
        f"/v1/complaints/{complaint}/hand_over",
        "supervisor",
        json={
            "campaign_id": cid,
            "unit": "approvals",
            "problem": "跨部门事项无牵头单位，群众反复跑",
        },
    )
    ok(handed)
    again = platform.post(
        f"/v1/complaints/{complaint}/hand_over",
        "supervisor",
        json={"campaign_id": cid, "unit": "approvals", "problem": "同一问题"},
    )
    assert again.status_code == 409, again.text  # one issue per complaint and campaign
    deadline, found = time.monotonic() + 20, []
    while not found and time.monotonic() < deadline:
        found = ok(
            platform.get(f"/v1/issues?complaint_id={complaint}", "campaign_office")
        )["items"]
        time.sleep(0.2)
    assert found, "the handed-over complaint did not become an issue"
    issue = ok(platform.get(f"/v1/issues/{found[0]['id']}", "campaign_office"))
    assert issue["source"] == "complaint" and issue["unit"] == "approvals"
    registered = issue["history"][0]
    assert registered["correlation_id"] == f"complaint-{complaint}"
    history = ok(platform.get(f"/v1/complaints/{complaint}", "intake"))["history"]
    assert history[-1]["type"] == "ComplaintHandedOver"
    assert "周八" not in str(issue)
    assert registered["causation_id"]  # the handover event, for the audit trail
    assert registered["actor"].startswith("supervisor:")  # who handed it over


def test_bad_campaign_and_issue_input_is_refused_with_a_named_problem(platform):
    at(platform, 2026, 9, 14, 9, 0)
    cid = launch(platform)
    nul_cursor = base64.urlsafe_b64encode(b'["2026-09-14", "I-\\u0000"]').decode()
    cases = [
        (f"/v1/issues?after={nul_cursor}", 422),
        (f"/v1/campaigns/{cid}/summary?period=２０２６-０９", 422),  # full-width
        (f"/v1/campaigns/{cid}/summary?period=2026-13", 422),
        (f"/v1/campaigns/{cid}/summary?period=2027-01", 422),  # has not begun
        ("/v1/campaigns/CP-2026-NOTHERE0", 404),
        ("/v1/issues/I-%00", 404),
        (f"/v1/campaigns/{cid}/ledger?unit=moon", 422),
    ]
    for path, status in cases:
        r = platform.get(path, "campaign_office")
        assert r.status_code == status, (path, r.text)
        assert r.json()["error"]["message"]
    bad_phases = {"name": "x", "phases": [PHASES[1], PHASES[0]]}
    r = platform.post("/v1/campaigns", "campaign_office", json=bad_phases)
    assert r.status_code == 422 and "phases must follow" in r.json()["error"]["message"]
    r = platform.post(
        "/v1/issues",
        "unit_handler",
        unit="approvals",
        json={
            "campaign_id": cid,
            "list": "problem",
            "manifestation": "x",
            "unit": "housing",
        },
    )
    assert r.status_code == 403, r.text  # a unit registers its own issues only
