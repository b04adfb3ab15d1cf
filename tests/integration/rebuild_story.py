"""A district's worth of everything, driven through the services' own handlers: what
tests/integration/test_rebuild.py rebuilds and compares.

One story per district: a directory (a copy of binhai.yml under a random code),
tokens, complaints through every step (a reopen, a return after an overdue deadline,
a reject, a merge, a handover), a campaign's issues (sent back, closed, overdue, a
suggestion, the handed-over one), clues and cases (a decision with dual
investigation, a bulletin, an appeal), the assessment marks and the people's
notifications as their consumers make them (sent, failed, abandoned, read), notify's
settings, webhook subscriptions and deliveries.
"""

from datetime import date, datetime, timedelta

from contracts.assessment import ASSESSED_EVENTS
from contracts.envelope import envelope
from eventlog.consumer import first_delivery
from eventlog.deadlines import TZ, OfficialCalendar
from eventlog.model import Actor, RecordedEvent
from eventlog.store import COLUMNS
from eventlog.tenancy import district_scope
from services.accountability import assessment_handlers
from services.accountability import handlers as accountability
from services.complaints import handlers as complaints
from services.complaints import identity
from services.complaints.pii import Keyring
from services.directory.load import load
from services.gateway.auth import issue
from services.issues import handlers as issues
from services.notify import handlers as notify
from services.notify import sender, templates, webhooks
from services.notify.channels import DeliveryError
from services.notify.webhooks_secrets import Sealer
from tests.integration.test_directory_rules import copy

CAL = OfficialCalendar()
T0 = datetime(2026, 9, 14, 9, 0, tzinfo=TZ)  # a Monday
INTAKE = Actor("op-1", "intake")
SUPERVISOR = Actor("sv-1", "supervisor")
INSPECTOR = Actor("in-1", "inspector")
OFFICE = Actor("of-1", "campaign_office")
ADMIN = Actor("ad-1", "admin")
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
CONTACT = {"anonymous": False, "name": "王五", "phone": "13700001111"}
KEYRING = Keyring(bytes(range(32)))  # complainants' identities (pii.py)


def handler(unit: str) -> Actor:
    return Actor(f"h-{unit}", "unit_handler", unit)


def day(n: int, hour: int = 10) -> datetime:
    return T0 + timedelta(days=n, hours=hour - 9)


class Story:
    def __init__(self, store, tmp_path):
        self.store, self.conn = store, store.conn
        self.district, path = copy(tmp_path)
        load(store, path, "test:rebuild")

    def run(self) -> str:
        issue(self.store, self.district, "intake")
        issue(self.store, self.district, "unit_handler", unit="approvals")
        self.settings()
        campaign = self.campaign()
        self.complaints(campaign)
        self.accountability()
        self.consumers()
        return self.district

    # ---- complaints ----------------------------------------------------------------

    def receive(self, at, **extra) -> str:
        body = {"channel": "12345", "category": "slow_action", "description": "等"}
        made = complaints.receive(
            self.store, self.district, {**body, **extra}, INTAKE, at, CAL, KEYRING
        )
        return made["id"]

    def act(self, cid, steps, at) -> None:
        for action, body, by in steps:
            complaints.execute(
                self.store, self.district, cid, action, body, by, at, CAL
            )

    def signed(self, unit="approvals", **extra) -> str:
        cid = self.receive(T0, **extra)
        self.act(
            cid,
            [
                ("accept", {}, INTAKE),
                ("dispatch", {"unit": unit}, INTAKE),
                ("sign", {}, handler(unit)),
            ],
            T0,
        )
        return cid

    def complaints(self, campaign) -> None:
        known = self.signed(complainant={**CONTACT, "email": "w@example.test"})
        self.act(
            known,
            [
                (
                    "request_extension",
                    {"days": 5, "reason": "需现场核查"},
                    handler("approvals"),
                ),
                ("approve_extension", {}, SUPERVISOR),
                ("urge", {}, SUPERVISOR),
                ("escalate", {"reason": "久拖不决"}, INSPECTOR),
                (
                    "reply",
                    {"result": "已办结", "substantiated": True},
                    handler("approvals"),
                ),
                ("feedback", {"text": "已告知"}, INTAKE),
                ("rate", {"rating": "dissatisfied"}, INTAKE),
                ("dispatch", {"unit": "housing"}, INTAKE),
                ("sign", {}, handler("housing")),
                (
                    "reply",
                    {"result": "已整改", "substantiated": False},
                    handler("housing"),
                ),
                ("feedback", {"text": "已告知"}, INTAKE),
                ("rate", {"rating": "satisfied"}, INTAKE),
                ("close", {}, INTAKE),
            ],
            day(3),
        )
        late = self.signed()  # anonymous: a query code
        complaints._run(
            self.store, self.district, late, complaints.c.RemindDeadline(), day(25), CAL
        )
        complaints._run(
            self.store, self.district, late, complaints.c.MarkOverdue(), day(28), CAL
        )
        self.act(
            late,
            [
                ("return", {"reason": "不属本单位"}, handler("approvals")),
                ("dispatch", {"unit": "housing"}, INTAKE),
                ("sign", {}, handler("housing")),
            ],
            day(28, 11),
        )
        self.act(self.receive(T0), [("reject", {"reason": "不属受理范围"}, INTAKE)], T0)
        self.act(self.receive(T0), [("merge", {"into": known}, INTAKE)], day(1))
        # A complainant whose identity was read, then erased (identity.py).
        gone = self.receive(T0, complainant={"name": "赵六", "phone": "13600000000"})
        identity.read(self.store, self.district, gone, "intake:s", "核实", KEYRING, T0)
        found = identity.find(self.conn, [self.district], gone)
        identity.erase(self.store, found, "cli:story", "申请人要求删除", day(2))
        handed = self.signed()
        body = {"campaign_id": campaign, "unit": "approvals", "problem": "审批拖延"}
        self.act(handed, [("hand_over", body, SUPERVISOR)], day(2))
        [event] = self.events(handed, "ComplaintHandedOver")
        issues.handed_over(self.store, envelope(event), day(2), CAL)

    # ---- issues ----------------------------------------------------------------------

    def campaign(self) -> str:
        body = {"name": "作风纪律专项整治", "phases": PHASES}
        campaign = issues.launch_campaign(self.store, self.district, body, OFFICE, T0)

        def register(unit, **extra) -> str:
            body = {"campaign_id": campaign, "unit": unit, "list": "problem"}
            body.update(manifestation="办事拖拉", **extra)
            return issues.register(
                self.store, self.district, body, handler(unit), T0, CAL
            )

        def act(issue_id, action, body, by, at=T0):
            issues.execute(
                self.store, self.district, issue_id, action, body, by, at, CAL
            )

        done = register("approvals")
        act(
            done,
            "set_measures",
            {"measures": "一次性告知", "days": 10},
            handler("approvals"),
        )
        act(done, "report_progress", {"progress": "已制定清单"}, handler("approvals"))
        act(
            done, "submit", {"evidence": ["https://e.test/1.pdf"]}, handler("approvals")
        )
        act(done, "send_back", {"reason": "证据不足"}, SUPERVISOR)
        act(
            done, "submit", {"evidence": ["https://e.test/2.pdf"]}, handler("approvals")
        )
        act(done, "close", {}, SUPERVISOR, day(5))
        late = register("housing")
        measures = {"measures": "午间轮班", "deadline": date(2026, 9, 18)}
        act(late, "set_measures", measures, handler("housing"))
        issues._run(
            self.store, self.district, late, issues.d.MarkOverdue(), day(6), CAL
        )
        advice = register("approvals", list="suggestion", suggested_unit="housing")
        act(advice, "answer", {"answer": "采纳"}, handler("housing"))
        act(
            advice,
            "set_measures",
            {"measures": "上墙公示", "at_once": True},
            handler("housing"),
        )
        return campaign

    # ---- accountability --------------------------------------------------------------

    def accountability(self) -> None:
        raised = []
        for type_ in ("ComplaintOverdue", "ComplaintReplied", "IssueOverdue"):
            for event in self.of_type(type_):
                raised.append(
                    accountability.clue_from_event(self.store, envelope(event), day(29))
                )
        clue = next(c for c in raised if c)
        d, at = self.district, day(29)
        accountability.act_on_clue(self.store, d, clue, "verify", {}, INSPECTOR, at)
        filed = {"reason": "初核属实", "subject": "qian-lei"}
        case = accountability.act_on_clue(
            self.store, d, clue, "file", filed, INSPECTOR, at
        )
        body = {"kind": "inspection_finding", "unit": "approvals", "summary": "抽查"}
        manual, _ = accountability.register_clue(self.store, d, body, INSPECTOR, at)
        for action, body in (("verify", {}), ("dismiss", {"reason": "查无实据"})):
            accountability.act_on_clue(
                self.store, d, manual, action, body, INSPECTOR, at
            )
        decided = {
            "measures": ["public_criticism", "admonishment_talk"],
            "reasoning": "拖延办理",
            "collective_decision": True,
        }
        bulletin = {"title": "关于拖延办理问题的通报", "body": "经查……"}
        for action, body, by, when in (
            (
                "record_findings",
                {"findings": "属实", "substantiated": True},
                INSPECTOR,
                at,
            ),
            ("decide", decided, INSPECTOR, at),
            ("publish_bulletin", bulletin, OFFICE, at),
            ("notify_subject", {}, INSPECTOR, at),
            ("appeal", {"grounds": "人手不足"}, INSPECTOR, day(35)),
            (
                "decide_appeal",
                {"outcome": "refused", "reasoning": "维持"},
                INSPECTOR,
                day(36),
            ),
            ("close", {}, INSPECTOR, day(36)),
        ):
            accountability.act_on_case(self.store, d, case, action, body, by, when)

    # ---- consumers: what the marks and notify's people consumer do with events -------

    def consumers(self) -> None:
        for event in self.logged("('complaint', 'issue', 'case')"):
            self.deliver(envelope(event))
        self.sends()

    def deliver(self, env: dict) -> None:
        if env["type"] in ASSESSED_EVENTS:
            assessment_handlers.record_mark(self.store, env)
        found = notify.matching(self.conn, self.district, env["type"])
        if found or env["type"] in notify.REMEMBERED:
            contact = (
                CONTACT if any(r.recipient == "complainant" for r in found) else None
            )
            notify.queue(self.store, env, day(30), contact, None)
        subs = webhooks.interested(self.store, env)
        if subs:
            with self.store.transaction():
                if first_delivery(self.conn, "notify.webhooks", env["event_id"]):
                    webhooks.schedule(self.store, env, subs, day(30))

    def sends(self) -> None:
        with district_scope(self.conn, self.district):
            rows = self.conn.execute(
                "SELECT notification_id FROM notify.outbox ORDER BY notification_id"
            ).fetchall()
        outcomes = [None, DeliveryError("smtp 451"), sender.Permanent("no address")]
        for n, (nid,) in enumerate(rows[:6]):
            job = sender.Job(nid, self.district, "email", 1, None, "cause", None)
            sender._record(self.store, job, outcomes[n % 3], day(30, 11))

    # ---- notify settings and webhooks ----------------------------------------------

    def settings(self) -> None:
        d, who = self.district, str(ADMIN)
        notify.set_rule(self.store, d, who, "complaint_urged.unit", ["inbox"], T0)
        title, body = templates.default("complaint_dispatched.unit")
        kind = "complaint_dispatched.unit"
        notify.set_template(self.store, d, who, kind, title + "（新）", body, T0)
        notify.set_office(self.store, d, who, ["zhang-wei"], T0)
        sealer = Sealer(None)
        hook = {
            "url": "https://hooks.example.test/a",
            "event_types": ["ComplaintDispatched"],
        }
        sid, _ = webhooks.subscribe(self.store, sealer, d, hook, ADMIN, T0)
        change = {"url": "https://hooks.example.test/b", "rotate_secret": True}
        webhooks.change(self.store, sealer, d, sid, change, ADMIN, T0)
        gone, _ = webhooks.subscribe(self.store, sealer, d, hook, ADMIN, T0)
        webhooks.unsubscribe(self.store, d, gone, ADMIN, T0)

    # ---- reading the log -----------------------------------------------------------

    def events(self, cid, type_):
        return [
            e for e in self.store.read_stream(complaints.stream(cid)) if e.type == type_
        ]

    def of_type(self, type_):
        return [e for e in self.logged() if e.type == type_]

    def logged(self, categories: str | None = None) -> list[RecordedEvent]:
        """The district's events in log order; `categories` an SQL list."""
        where = (
            f" AND split_part(stream_id, '-', 1) IN {categories}" if categories else ""
        )
        rows = self.conn.execute(
            f"SELECT {COLUMNS} FROM eventlog.events WHERE district = %s{where}"
            " ORDER BY position",
            (self.district,),
        ).fetchall()
        return [RecordedEvent(*row) for row in rows]
