"""Nothing of one district reaches another. District B (jinghai) makes one object of
every kind; then every operation of the live OpenAPI document is called with a
district A (binhai) token of every role on B's objects: each is refused (403 or
404) exactly as for an id that does not exist, list routes answer A's own, and no
answer carries anything of B's. The catch-up feed and the inbox are read in full; a
city token reads the district it names and nobody else names one.

TABLE says how to fill each operation from B's objects; the first test fails when
the document and the table differ, so a new route cannot escape the sweep.
docs/security-notes/districts.md says what this guarantees.
"""

import json
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

import psycopg
import pytest
import requests
import yaml

from contracts.vocabulary import ROLES
from tests.e2e.conftest import DISTRICTS
from tests.e2e.local_servers import wait_for
from tests.e2e.test_webhooks import Receiver

A, B = "binhai", "jinghai"
TAG = uuid.uuid4().hex[:10].upper()  # in every text B writes: a leak shows it
UNITS = {"unit_handler": "approvals"}  # a unit code both districts have
CITY_HEADER = "X-Liuhen-District"
ALL = frozenset(ROLES)
OVERSEE = frozenset({"inspector", "campaign_office", "city"})
STATS = frozenset(
    {"intake", "supervisor", "inspector", "campaign_office", "admin", "city"}
)
GLOBAL_PARAMS = {"format", "service_code"}  # the same vocabulary in every district
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
NEW = {"channel": "12345", "category": "shirking", "description": "窗口推诿"}


# ---- the table -------------------------------------------------------------------


@dataclass(frozen=True)
class Of:
    """A value of the world: B's (replaced by a look-alike that exists nowhere in
    the twin request) or A's own (kept)."""

    key: str
    theirs: bool = True


def b(key):
    return Of(key)


def a(key):
    return Of(key, theirs=False)


@dataclass(frozen=True)
class Case:
    # refused: 403/404. foreign: a 4xx (A's object, B's id in the body or query).
    # listing: 200 for the roles in `ok`, else 403. own: A's own, 2xx for `ok`.
    # public: 200 for anyone. code: the query code is the credential, not a token.
    expect: str
    params: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    body: object = None
    ok: frozenset = frozenset()
    open311: bool = False  # api_key in the query (GET) or the form (POST)


def refused(body=None, query=None, **params):
    return Case("refused", params, query or {}, body)


def foreign(body=None, query=None, **params):
    return Case("foreign", params, query or {}, body)


def listing(ok, **query):
    return Case("listing", {}, query, ok=frozenset(ok))


def own(ok, body=None, **params):
    return Case("own", params, {}, body, ok=frozenset(ok))


def o311(expect, query, body=None, ok=(), **params):
    return Case(expect, {"format": "json", **params}, query, body, frozenset(ok), True)


C = "/v1/complaints/{complaint_id}"
COMPLAINT_ACTIONS = {
    "accept": {},
    "reject": {"reason": "重复投诉"},
    "merge": {"into": b("complaint2")},
    "dispatch": {"unit": "approvals"},
    "sign": {},
    "return": {"reason": "不属本单位职责"},
    "request_extension": {"days": 3, "reason": "需调取录像"},
    "approve_extension": {},
    "refuse_extension": {"reason": "不予延期"},
    "reply": {"result": "已办结"},
    "feedback": {"text": "已告知"},
    "rate": {"rating": "satisfied"},
    "close": {},
    "urge": {},
    "escalate": {"reason": "久拖不决"},
    "hand_over": {"campaign_id": b("campaign"), "unit": "approvals", "problem": "x"},
}
# A's own complaint, with B's object named in the body.
COMPLAINT_CROSSINGS = {
    "merge": {"into": b("complaint")},
    "dispatch": {"unit": b("unit")},
    "hand_over": {"campaign_id": b("campaign"), "unit": "approvals", "problem": "x"},
}
ISSUE = "/v1/issues/{issue_id}"
ISSUE_ACTIONS = {
    "answer": {"answer": "同意"},
    "set_measures": {"measures": "立行立改", "at_once": True},
    "report_progress": {"progress": "推进中"},
    "submit": {"evidence": ["https://files.example.gov.cn/x.pdf"]},
    "send_back": {"reason": "证据不足"},
    "close": {},
}
CLUE_ACTIONS = {
    "verify": {},
    "dismiss": {"reason": "不属实"},
    "file": {"reason": "立案"},
}
CASE_ACTIONS = {
    "record_findings": {"findings": "查明", "substantiated": True},
    "assess_exemption": {
        "outcome": "refused",
        "grounds": ["diligent"],
        "reasoning": "不予免责",
    },
    "decide": {"measures": ["criticism_education"], "reasoning": "批评教育"},
    "mark_reference": {},
    "publish_bulletin": {"title": "通报", "body": "正文"},
    "notify_subject": {},
    "appeal": {"grounds": "不服"},
    "decide_appeal": {"outcome": "refused", "reasoning": "维持"},
    "close": {},
}
NEW_CLUE = {"kind": "report", "unit": "approvals", "summary": "线索"}
REFS = ("complaint", "clue", "case", "issue", "s_complaint")  # what audit takes
STREAMS = (
    "s_complaint",
    "s_campaign",
    "s_issue",
    "s_clue",
    "s_case",
    "s_notification",
    "s_webhook",
    "s_delivery",
    "s_notify",
    "s_directory",
    "s_assessment",
    "s_token",
)
W = "/v1/webhooks/{webhook_id}"
D = "/v1/webhooks/deliveries/{delivery_id}"
O311 = "/open311/v2"
IN_B, IN_A = {"jurisdiction_id": B}, {"jurisdiction_id": A}

TABLE = {
    ("POST", "/v1/complaints"): [foreign({**NEW, "unit_complained": b("unit")})],
    ("GET", "/v1/complaints"): [listing(ALL), listing(ALL, unit=b("unit"))],
    ("GET", C): [refused(complaint_id=b("complaint"))],
    ("GET", C + "/complainant"): [
        refused(query={"reason": "核查"}, complaint_id=b("complaint"))
    ],
    **{
        ("POST", f"{C}/{action}"): [refused(body, complaint_id=b("complaint"))]
        + (
            [foreign(COMPLAINT_CROSSINGS[action], complaint_id=a("complaint"))]
            if action in COMPLAINT_CROSSINGS
            else []
        )
        for action, body in COMPLAINT_ACTIONS.items()
    },
    ("GET", "/v1/track/{code}"): [Case("code", {"code": b("code")})],
    ("GET", "/v1/units/stats"): [listing(STATS)],
    ("GET", "/v1/health"): [Case("public")],
    ("GET", "/v1/openapi.json"): [Case("public")],
    ("GET", "/v1/asyncapi.json"): [Case("public")],
    ("POST", "/v1/campaigns"): [
        own({"campaign_office", "admin"}, {"name": "滨海作风整治", "phases": PHASES})
    ],
    ("GET", "/v1/campaigns"): [listing(ALL)],
    ("GET", "/v1/campaigns/{campaign_id}"): [refused(campaign_id=b("campaign"))],
    ("GET", "/v1/campaigns/{campaign_id}/ledger"): [
        refused(campaign_id=b("campaign")),
        refused(query={"format": "csv", "list": "problem"}, campaign_id=b("campaign")),
    ],
    ("GET", "/v1/campaigns/{campaign_id}/summary"): [
        refused(campaign_id=b("campaign"))
    ],
    ("POST", "/v1/issues"): [
        foreign(
            {
                "campaign_id": b("campaign"),
                "unit": "approvals",
                "list": "problem",
                "manifestation": "x",
            }
        )
    ],
    ("GET", "/v1/issues"): [
        listing(ALL),
        listing(ALL, campaign_id=b("campaign")),
        listing(ALL, unit=b("unit")),
    ],
    ("GET", ISSUE): [refused(issue_id=b("issue"))],
    **{
        ("POST", f"{ISSUE}/{action}"): [refused(body, issue_id=b("issue"))]
        for action, body in ISSUE_ACTIONS.items()
    },
    ("POST", "/v1/clues"): [
        foreign({**NEW_CLUE, "complaint_id": b("complaint")}),
        foreign({**NEW_CLUE, "issue_id": b("issue")}),
        foreign({**NEW_CLUE, "unit": b("unit")}),
        foreign({**NEW_CLUE, "subject": b("person")}),
    ],
    ("GET", "/v1/clues"): [
        listing(OVERSEE),
        listing(OVERSEE, source_id=b("complaint")),
        listing(OVERSEE, unit=b("unit")),
    ],
    ("GET", "/v1/clues/{clue_id}"): [refused(clue_id=b("clue"))],
    **{
        ("POST", f"/v1/clues/{{clue_id}}/{action}"): [refused(body, clue_id=b("clue"))]
        for action, body in CLUE_ACTIONS.items()
    },
    ("POST", "/v1/clues/{clue_id}/file"): [
        refused(CLUE_ACTIONS["file"], clue_id=b("clue")),
        foreign({"reason": "立案", "subject": b("person")}, clue_id=a("clue")),
    ],
    ("GET", "/v1/cases"): [listing(OVERSEE), listing(OVERSEE, subject=b("person"))],
    ("GET", "/v1/cases/bulletins"): [listing(OVERSEE, period=a("year"))],
    ("GET", "/v1/cases/{case_id}"): [
        refused(case_id=b("case")),
        refused(case_id=b("case_dual")),
    ],
    **{
        ("POST", f"/v1/cases/{{case_id}}/{action}"): [refused(body, case_id=b("case"))]
        for action, body in CASE_ACTIONS.items()
    },
    ("GET", "/v1/assessment"): [
        listing({"inspector", "campaign_office", "admin", "city"}, period=a("year"))
    ],
    ("GET", "/v1/assessment/units/{unit}"): [refused(unit=b("unit"))],
    # B published this period: A publishes its own all the same.
    ("POST", "/v1/assessment/publish"): [
        own({"campaign_office"}, {"period": a("published")})
    ],
    ("GET", "/v1/audit/cases/{ref}"): [refused(ref=b(k)) for k in REFS],
    ("GET", "/v1/audit/cases/{ref}/dossier"): [refused(ref=b(k)) for k in REFS],
    ("GET", "/v1/audit/streams/{stream_id}"): [
        refused(stream_id=b(s)) for s in STREAMS
    ],
    ("GET", "/v1/audit/verify"): [
        listing({"inspector", "admin", "city"}),
        refused(query={"district": b("district")}),
    ],
    ("GET", "/v1/events"): [
        listing({"integrator", "inspector", "admin", "city"}, after=a("position")),
        foreign(query={"after": b("position")}),
    ],
    ("GET", "/v1/inbox"): [listing(ALL, limit=200)],
    ("POST", "/v1/inbox/{notification_id}/read"): [
        refused(notification_id=b("notification"))
    ],
    ("GET", "/v1/notify/rules"): [listing({"admin", "campaign_office"})],
    ("PUT", "/v1/notify/rules/{kind}"): [
        own({"admin"}, a("rule_body"), kind=b("rule_kind"))
    ],
    ("GET", "/v1/notify/templates"): [listing({"admin", "campaign_office"})],
    ("PUT", "/v1/notify/templates/{kind}"): [
        own({"admin"}, a("template_body"), kind=b("template_kind"))
    ],
    ("PUT", "/v1/notify/office"): [foreign({"people": [b("person")]})],
    ("POST", "/v1/webhooks"): [
        own({"admin"}, {"url": a("hook_url"), "event_types": ["CaseAppealDecided"]})
    ],
    ("GET", "/v1/webhooks"): [listing({"admin"})],
    ("GET", W): [refused(webhook_id=b("webhook"))],
    ("PATCH", W): [refused({"event_types": ["*"]}, webhook_id=b("webhook"))],
    ("DELETE", W): [refused(webhook_id=b("webhook"))],
    ("GET", W + "/deliveries"): [refused(webhook_id=b("webhook"))],
    ("GET", D): [refused(delivery_id=b("delivery"))],
    ("POST", D + "/resend"): [refused(delivery_id=b("delivery"))],
    ("GET", "/v1/tokens"): [listing({"admin"})],
    ("DELETE", "/v1/tokens/{token_id}"): [refused(token_id=b("token"))],
    # Open311: the district is public (reads need no key); a key of A acts on A only.
    ("GET", O311 + "/services.{format}"): [o311("public", IN_B)],
    ("GET", O311 + "/services/{service_code}.{format}"): [
        o311("public", IN_B, service_code="shirking")
    ],
    ("GET", O311 + "/requests.{format}"): [
        o311("refused", IN_B),
        o311("listing", IN_A, ok=ALL),
        o311("listing", {**IN_A, "service_request_id": b("complaint")}, ok=ALL),
    ],
    ("POST", O311 + "/requests.{format}"): [
        o311(
            "refused",
            {},
            {**IN_B, "service_code": "shirking", "description": "x", "lat": "39.1"}
            | {"long": "117.2"},
        )
    ],
    ("GET", O311 + "/requests/{service_request_id}.{format}"): [
        o311("refused", IN_B, service_request_id=b("complaint")),
        o311("refused", IN_A, service_request_id=b("complaint")),
    ],
    ("GET", O311 + "/tokens/{token}.{format}"): [
        o311("refused", IN_A, token=b("code"))
    ],
}


# ---- the world -------------------------------------------------------------------


@dataclass
class World:
    theirs: dict  # B's values by key
    ours: dict  # A's values by key
    fakes: dict  # B's key -> a look-alike that names nothing anywhere
    secrets: set  # strings no answer to A may contain
    event_ids: set  # every event id of B
    stream_ids: set  # every stream id of B
    inbox: dict  # B's inbox items: id -> its owner (role, unit)

    def value(self, of: Of, twin: bool):
        if not of.theirs:
            return self.ours[of.key]
        return self.fakes[of.key] if twin else self.theirs[of.key]


def ok(r, status=200) -> dict:
    assert r.status_code == status, (r.request.method, r.request.url, r.text)
    return r.json()


def fake(key: str, value) -> str:
    """A value shaped like B's that names nothing anywhere."""
    value = str(value)
    if key == "code":
        return "0000-0000-0000"
    if key == "token":
        return "zzzzzzzzzz"
    if key == "position":
        return "999999999999"
    if "." in value:  # a notification kind
        return "nothing_here.nobody"
    if key in ("unit", "district", "person"):
        return re.sub(r"[a-z]", "z", value)
    if key.startswith("s_"):
        category, _, rest = value.partition("-")
        return f"{category}-{rest.replace(B, 'z' * len(B))[:-6]}000000"
    return value[:-6] + "000000"


def directory_strings() -> set:
    """B's directory (names, contacts, codes) where A's file does not have them."""
    theirs = yaml.safe_load((DISTRICTS / f"{B}.yml").read_text())
    mine = (DISTRICTS / f"{A}.yml").read_text()
    found = {theirs["name"]}
    for p in theirs.get("people", []):
        found |= {p["id"], p["name"], p.get("email"), str(p.get("phone"))}
    for u in theirs.get("units", []):
        found |= {u["code"], u["name"]}
    return {s for s in found if s and s != "None" and s not in mine}


def their_person() -> str:
    """A person of B's directory that A's does not have, and no principal leader."""
    theirs = yaml.safe_load((DISTRICTS / f"{B}.yml").read_text())
    mine = (DISTRICTS / f"{A}.yml").read_text()
    leaders = set(theirs.get("principal_leaders") or [])
    return next(
        p["id"]
        for p in theirs["people"]
        if p["id"] not in mine and p["id"] not in leaders and p.get("unit")
    )


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.close()


# Vocabulary every district shares, though B's objects name them.
SHARED = {"district", "position", "template_kind", "rule_kind"}


@pytest.fixture(scope="module")
def world(platform, database, receiver):
    theirs = {"district": B, "unit": "jinghai_town", "person": their_person()}
    theirs.update(their_objects(platform, receiver, theirs))
    ours = our_objects(platform, database, receiver, theirs)
    with psycopg.connect(database.app, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT event_id::text, stream_id, position FROM eventlog.events"
            " WHERE district = %s ORDER BY position",
            (B,),
        ).fetchall()
    theirs["position"] = rows[-1][2]
    theirs["s_token"] = next(s for _, s, _ in rows if s.startswith("token-"))
    theirs["token"] = theirs["s_token"].removeprefix("token-")
    inbox = theirs.pop("inbox")
    secrets = {TAG, B, "静海", *inbox} | directory_strings()
    secrets |= {str(v) for k, v in theirs.items() if k not in SHARED}
    yield World(
        theirs=theirs,
        ours=ours,
        fakes={k: fake(k, v) for k, v in theirs.items()},
        secrets=secrets - {""},
        event_ids={r[0] for r in rows},
        stream_ids={r[1] for r in rows},
        inbox=inbox,
    )
    # The receiver closes with this module: no deliveries to nowhere afterwards.
    path = f"/v1/webhooks/{theirs['webhook']}"
    assert platform.call("DELETE", path, "admin", district=B).status_code == 204


def their_objects(platform, receiver, v) -> dict:
    """One object of every kind in B, every text marked with TAG."""

    def call(method, path, role, as_unit=None, status=200, **body):
        r = platform.call(method, path, role, district=B, unit=as_unit, json=body)
        return ok(r, status)

    out = their_settings(call, receiver, v)
    out.update(their_complaints(call))
    out.update(their_campaign(call))
    out.update(their_case(call, out["complaint"], v["person"]))
    call("POST", "/v1/assessment/publish", "campaign_office", status=201, period="2025")
    out["inbox"], out["notification"] = their_inbox(platform, out["complaint"])
    deliveries = wait_for(
        lambda: call("GET", f"/v1/webhooks/{out['webhook']}/deliveries", "admin")[
            "items"
        ]
    )
    assert deliveries, "no delivery to B's webhook"
    out["delivery"] = deliveries[0]["id"]
    for key in ("complaint", "campaign", "issue", "clue", "case", "notification"):
        out[f"s_{key}"] = f"{key}-{out[key]}"
    out.update(
        s_webhook=f"webhook-{out['webhook']}",
        s_delivery=f"delivery-{out['delivery']}",
        s_notify=f"notify-{B}",
        s_directory=f"directory-{B}",
        s_assessment=f"assessment-{B}-2025",
    )
    return out


def their_settings(call, receiver, v) -> dict:
    """A webhook (first: the complaints after it are delivered), a template, a rule
    and the campaign office's people."""
    base = receiver.url.split("/hooks")[0]
    hook = {"url": f"{base}/jinghai-{TAG}", "event_types": ["ComplaintReceived"]}
    out = {"webhook": call("POST", "/v1/webhooks", "admin", status=201, **hook)["id"]}
    out["template_kind"] = "assessment_published.office"
    out["rule_kind"] = "complaint_urged.unit"
    template = {"title": f"静海考核结果{TAG}", "body": f"静海考核结果已公布{TAG}"}
    call("PUT", f"/v1/notify/templates/{out['template_kind']}", "admin", **template)
    call("PUT", f"/v1/notify/rules/{out['rule_kind']}", "admin", channels=["inbox"])
    call("PUT", "/v1/notify/office", "admin", people=[v["person"]])
    return out


def their_complaints(call) -> dict:
    """A named complaint returned by one unit and signed by another, urged and
    escalated (inbox items for units, intake and the supervisor); an anonymous one
    with its query code."""
    phone = "139" + TAG[:8].translate(str.maketrans("ABCDEF", "123456"))
    email = f"j{TAG.lower()}@example.com"
    made = call(
        "POST",
        "/v1/complaints",
        "intake",
        status=201,
        **NEW | {"title": f"静海标题{TAG}", "description": f"静海描述{TAG}"},
        unit_complained="jinghai_town",
        persons=[f"静海被投诉人{TAG}"],
        location={"address": f"静海地址{TAG}"},
        complainant={"name": f"静海投诉人{TAG}", "phone": phone, "email": email},
    )
    cid = made["id"]
    for action, role, unit, body in (
        ("accept", "intake", None, {"note": f"受理备注{TAG}"}),
        ("dispatch", "intake", None, {"unit": "jinghai_town"}),
        ("return", "unit_handler", "jinghai_town", {"reason": f"退回理由{TAG}"}),
        ("dispatch", "intake", None, {"unit": "approvals"}),
        ("sign", "unit_handler", "approvals", {}),
        ("urge", "supervisor", None, {"note": f"督办{TAG}"}),
        ("escalate", "supervisor", None, {"reason": f"升级理由{TAG}"}),
    ):
        call("POST", f"/v1/complaints/{cid}/{action}", role, unit, **body)
    anonymous = call(
        "POST", "/v1/complaints", "intake", status=201, **NEW, title=f"匿名{TAG}"
    )
    return {
        "complaint": cid,
        "phone": phone,
        "email": email,
        "complaint2": anonymous["id"],
        "code": anonymous["query_code"],
    }


def their_campaign(call) -> dict:
    body = {"name": f"静海专项整治{TAG}", "phases": PHASES}
    campaign = call("POST", "/v1/campaigns", "campaign_office", status=201, **body)
    issue = call(
        "POST",
        "/v1/issues",
        "unit_handler",
        "approvals",
        status=201,
        campaign_id=campaign["id"],
        list="problem",
        manifestation=f"静海问题表现{TAG}",
        responsible=f"静海责任人{TAG}",
    )
    return {"campaign": campaign["id"], "issue": issue["id"]}


def their_case(call, cid, person) -> dict:
    """A clue on the complaint, filed; the case decided (opening a dual
    investigation) and its bulletin published."""
    clue = call(
        "POST",
        "/v1/clues",
        "inspector",
        status=201,
        **NEW_CLUE | {"summary": f"静海线索{TAG}"},
        subject=person,
        complaint_id=cid,
    )["id"]
    call("POST", f"/v1/clues/{clue}/verify", "inspector")
    filed = call("POST", f"/v1/clues/{clue}/file", "inspector", reason=f"立案{TAG}")
    case = filed["case_id"]
    findings = {"findings": f"查明事实{TAG}", "substantiated": True}
    call("POST", f"/v1/cases/{case}/record_findings", "inspector", **findings)
    decision = {"measures": ["admonishment_talk"], "reasoning": f"决定理由{TAG}"}
    decided = call("POST", f"/v1/cases/{case}/decide", "inspector", **decision)
    bulletin = {"title": f"静海通报{TAG}", "body": f"静海通报正文{TAG}"}
    path = f"/v1/cases/{case}/publish_bulletin"
    published = call("POST", path, "campaign_office", **bulletin)
    return {
        "clue": clue,
        "case": case,
        "case_dual": decided["links"][0]["case_id"],
        "bulletin": published["bulletin_id"],
    }


INBOXES = [
    ("unit_handler", "approvals"),
    ("unit_handler", "jinghai_town"),
    ("intake", None),
    ("supervisor", None),
    ("campaign_office", None),
]


def their_inbox(platform, cid) -> tuple[dict, str]:
    """Every item of B's inboxes (id -> its owner), once the complaint's have come,
    and one of the complaint's."""

    def items(role, unit):
        r = platform.get("/v1/inbox", role, district=B, unit=unit, params=LIMIT)
        return ok(r)["items"]

    mine = wait_for(
        lambda: [
            i["id"]
            for i in items("unit_handler", "approvals")
            if i["correlation_id"] == f"complaint-{cid}"
        ]
    )
    assert mine, "no inbox item for B's unit"
    found = {}
    for role, unit in INBOXES:
        for item in items(role, unit):
            found.setdefault(item["id"], (role, unit))
    return found, mine[0]


def our_objects(platform, database, receiver, v) -> dict:
    """A's own objects that the sweep names next to B's, and A's settings as they
    are (an admin of A puts them back unchanged)."""
    r = platform.post("/v1/complaints", "intake", json=NEW)
    cid = ok(r, 201)["id"]
    ok(platform.post(f"/v1/complaints/{cid}/accept", "intake", json={}))
    clue = ok(platform.post("/v1/clues", "inspector", json=NEW_CLUE), 201)["id"]
    ok(platform.post(f"/v1/clues/{clue}/verify", "inspector", json={}))
    rules = ok(platform.get("/v1/notify/rules", "admin"))["rules"]
    templates = ok(platform.get("/v1/notify/templates", "admin"))["items"]
    template = next(t for t in templates if t["kind"] == v["template_kind"])
    with psycopg.connect(database.app, autocommit=True) as conn:
        (position,) = conn.execute(
            "SELECT max(position) FROM eventlog.events WHERE district = %s", (A,)
        ).fetchone()
    return {
        "complaint": cid,
        "clue": clue,
        "year": str(platform.clock.now.year),
        "published": "2025",
        "position": position,
        "rule_body": {
            "channels": next(
                r["channels"] for r in rules if r["kind"] == v["rule_kind"]
            )
        },
        "template_body": {"title": template["title"], "body": template["body"]},
        "hook_url": receiver.url,
    }


# ---- the sweep -------------------------------------------------------------------

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STREAM = re.compile(r"[a-z][a-z0-9_]*-[A-Za-z0-9_.:-]+")
TRACKED = {"complaint_id", "district", "status", "feedback", "updated_at"}


def text_of(r) -> str:
    """The answer as text, JSON with its Chinese unescaped."""
    if "json" in r.headers.get("Content-Type", ""):
        try:
            return json.dumps(r.json(), ensure_ascii=False, sort_keys=True)
        except ValueError:
            pass
    return r.content.decode("utf-8", "replace")


def leaks(world, text: str, sent=()) -> list:
    """B's strings in `text`, but for those the request itself sent."""
    found = []
    for secret in world.secrets:
        if secret in text:
            cleaned = text
            for value in sent:
                if secret in value:
                    cleaned = cleaned.replace(value, "")
            if secret in cleaned:
                found.append(secret)
    found += set(UUID.findall(text)) & world.event_ids
    found += set(STREAM.findall(text)) & world.stream_ids - set(sent)
    return sorted(found)


def normal(text: str, subs: dict) -> str:
    for value in sorted(subs, key=len, reverse=True):
        text = text.replace(value, subs[value])
    return text


class Sweep:
    """Calls operations as A's tokens, and says what is wrong with each answer."""

    def __init__(self, platform, world):
        self.platform, self.world = platform, world
        self.session = requests.Session()
        self.calls, self.made, self.reached = 0, [], set()

    def send(self, method, template, case, role, twin=False):
        subs, sent = {}, []

        def fill(x):
            if isinstance(x, dict):
                return {k: fill(v) for k, v in x.items()}
            if isinstance(x, list):
                return [fill(v) for v in x]
            if isinstance(x, Of):
                value = self.world.value(x, twin)
                if x.theirs:
                    subs[str(value)] = f"<{x.key}>"
                x = value
            sent.append(str(x))
            return x

        path = template
        for name, value in fill(case.params).items():
            path = path.replace(f"{{{name}}}", quote(str(value), safe=""))
        query, body = fill(case.query), fill(case.body)
        token = self.platform.token(role, A, UNITS.get(role))
        kw = {"params": query, "headers": {}, "timeout": 30}
        if role == "city":  # acting in A, as a city token must say
            kw["headers"][CITY_HEADER] = A
        if not case.open311:
            kw["headers"]["Authorization"] = f"Bearer {token}"
            kw["json"] = body
        elif method == "POST":
            kw["data"] = {**body, "api_key": token}
        else:
            query["api_key"] = token
        self.calls += 1
        r = self.session.request(method, self.platform.base + path, **kw)
        return r, subs, sent, path

    def check(self, method, template, case, role) -> list:
        r, subs, sent, path = self.send(method, template, case, role)
        status, text = r.status_code, text_of(r)
        where = f"{role} {method} {path} {case.query or ''}"
        if not by_role(r):
            self.reached.add(id(case))
        if case.expect == "code":
            return self.check_code(r, path, where)
        if method == "POST" and template == "/v1/webhooks" and status == 201:
            self.made.append(r.json()["id"])
        wrong = []
        if status >= 500:
            wrong.append(f"{where}: {status}")
        if found := leaks(self.world, text, sent):
            wrong.append(f"{where}: {status} shows B's {found[:5]}")
        if not expected(case, role, status):
            wrong.append(f"{where}: {status} {text[:160]}")
        if subs and 400 <= status < 500 and not by_role(r):
            twin, twin_subs, _, _ = self.send(method, template, case, role, twin=True)
            mine = (status, normal(text, subs))
            other = (twin.status_code, normal(text_of(twin), twin_subs))
            if mine != other:
                wrong.append(f"{where}: {mine} but for nothing: {other}")
        return wrong

    def check_code(self, r, path, where) -> list:
        """The query code is the credential: a token adds nothing to it."""
        anonymous = self.session.get(self.platform.base + path, timeout=30)
        if (r.status_code, r.text) != (anonymous.status_code, anonymous.text):
            return [f"{where}: a token changes the answer"]
        if r.status_code != 200 or set(r.json()) - TRACKED:
            return [f"{where}: {r.status_code} {r.text[:160]}"]
        return []

    def clean_up(self):
        for webhook_id in self.made:
            path = f"/v1/webhooks/{webhook_id}"
            self.platform.call("DELETE", path, "admin")
        self.session.close()


def by_role(r) -> bool:
    """A refusal of the role (policy.require: 403 naming the roles allowed). The
    gateway decides it before it looks anything up, so it cannot depend on what
    exists; every other refusal is compared with the twin's."""
    if r.status_code != 403 or "json" not in r.headers.get("Content-Type", ""):
        return False
    body = r.json()  # Open311's errors are lists
    details = isinstance(body, dict) and body["error"].get("details") or {}
    return "allowed_roles" in details


def expected(case, role, status) -> bool:
    if case.expect == "refused":
        return status in (403, 404)
    if case.expect == "foreign":
        return 400 <= status < 500 and status != 401
    if case.expect == "listing":
        return status == 200 if role in case.ok else status in (200, 403)
    if case.expect == "own":
        return 200 <= status < 300 if role in case.ok else status < 500
    return status == 200  # public


def operations(doc) -> set:
    return {
        (method.upper(), path)
        for path, ops in doc["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_the_table_covers_every_operation_of_the_document_exactly(platform):
    doc = ok(platform.get("/v1/openapi.json"))
    documented = operations(doc)
    uncovered, gone = documented - set(TABLE), set(TABLE) - documented
    assert not uncovered, f"operations the sweep does not cover: {sorted(uncovered)}"
    assert not gone, f"operations no longer in the document: {sorted(gone)}"
    for (method, path), cases in TABLE.items():
        names = set(re.findall(r"\{(\w+)\}", path))
        assert cases and all(set(c.params) == names for c in cases), (method, path)
    theirs = {
        name
        for cases in TABLE.values()
        for case in cases
        for name, value in case.params.items()
        if isinstance(value, Of) and value.theirs
    }
    params = set(re.findall(r"\{(\w+)\}", " ".join(doc["paths"])))
    assert not params - GLOBAL_PARAMS - theirs, "path parameters with no value of B"


def test_every_operation_refuses_another_districts_objects(platform, world, database):
    with psycopg.connect(database.app, autocommit=True) as conn:
        (start,) = conn.execute("SELECT max(position) FROM eventlog.events").fetchone()
    sweep, wrong = Sweep(platform, world), []
    calls = [
        (method, template, case, role)
        for (method, template), cases in TABLE.items()
        for case in cases
        for role in ROLES
    ]
    try:
        for call in calls:
            wrong += sweep.check(*call)
    finally:
        sweep.clean_up()
    # Each case got past the role check for some role: the object was looked up.
    wrong += [
        f"{method} {template} {case}: every role was refused by role"
        for (method, template), cases in TABLE.items()
        for case in cases
        if id(case) not in sweep.reached
    ]
    wrong += crossed_streams(database, start)
    assert not wrong, f"{len(wrong)} in {sweep.calls} calls:\n" + "\n".join(wrong)


def crossed_streams(database, since) -> list:
    """Since `since`, A's tokens appended nothing to B's streams, and no stream
    written to has events of two districts."""
    with psycopg.connect(database.app, autocommit=True) as conn:
        touched = conn.execute(
            "SELECT stream_id, type, actor FROM eventlog.events WHERE district = %s"
            " AND position > %s AND split_part(actor, ':', 2) IN (SELECT"
            " data->>'subject' FROM eventlog.events WHERE type = 'TokenIssued'"
            " AND district = %s)",
            (B, since, A),
        ).fetchall()
        mixed = conn.execute(
            "SELECT stream_id FROM eventlog.events WHERE stream_id IN (SELECT"
            " stream_id FROM eventlog.events WHERE position > %s) GROUP BY stream_id"
            " HAVING count(DISTINCT district) > 1",
            (since,),
        ).fetchall()
    return [f"A's token acted in B: {row}" for row in touched] + [
        f"a stream of two districts: {row[0]}" for row in mixed
    ]


# ---- the feed, the inbox, the city -----------------------------------------------

FEED_READERS = ("integrator", "inspector", "admin", "city")
LIMIT = {"limit": 200}


def whole_feed(platform, role, headers=None) -> list:
    events, after = [], 0
    while True:
        r = platform.get(
            "/v1/events",
            role,
            params={"after": after, "limit": 1000},
            headers=dict(headers or {}),
        )
        page = ok(r)
        events += page["events"]
        after = page["after"]
        if not page["more"]:
            return events


def test_the_catch_up_feed_never_carries_another_districts_events(platform, world):
    for role in FEED_READERS:
        events = whole_feed(platform, role)
        assert events and {e["district"] for e in events} == {A}, role
        assert not {e["event_id"] for e in events} & world.event_ids, role
        assert not leaks(world, json.dumps(events, ensure_ascii=False)), role
    # B's position is as unknown as one that is no event's: the same answer.
    position, nowhere = str(world.theirs["position"]), world.fakes["position"]
    theirs = platform.get(f"/v1/events?after={position}", "integrator")
    none = platform.get(f"/v1/events?after={nowhere}", "integrator")
    assert theirs.status_code == none.status_code == 422, theirs.text
    assert normal(theirs.text, {position: "<p>"}) == normal(none.text, {nowhere: "<p>"})


def test_the_inbox_never_shows_or_touches_another_districts_items(platform, world):
    theirs = sorted(n for n in world.inbox if n.startswith("N-"))[:5]
    nowhere = fake("notification", theirs[0])
    for role in ROLES:
        unit = UNITS.get(role)
        for unread in ({}, {"unread": "true"}, {"unread": "false"}):
            query = {"limit": 200, **unread}
            while True:
                r = platform.get("/v1/inbox", role, unit=unit, params=query)
                page = ok(r)
                assert not leaks(world, text_of(r)), (role, unread)
                if not page["next"]:
                    break
                query["after"] = page["next"]
        none = platform.post(f"/v1/inbox/{nowhere}/read", role, unit=unit)
        assert none.status_code == 404, none.text
        for nid in theirs:
            r = platform.post(f"/v1/inbox/{nid}/read", role, unit=unit)
            assert r.status_code == 404, (role, nid, r.text)
            assert r.text.replace(nid, "<n>") == none.text.replace(nowhere, "<n>")
    for nid in theirs:  # still unread where they belong
        role, unit = world.inbox[nid]
        r = platform.get("/v1/inbox", role, district=B, unit=unit, params=LIMIT)
        items = {i["id"]: i for i in ok(r)["items"]}
        assert nid not in items or items[nid]["read_at"] is None, nid


def test_a_city_token_reads_the_district_it_names_and_no_other_token_names_one(
    platform, world
):
    cid, mine = world.theirs["complaint"], world.ours["complaint"]

    def city(path, district, **kw):
        headers = {"Authorization": f"Bearer {platform.token('city', A)}"}
        if district:
            headers[CITY_HEADER] = district
        return requests.get(platform.base + path, headers=headers, timeout=30, **kw)

    r = city(f"/v1/complaints/{cid}", B)
    assert r.status_code == 200 and TAG in r.text, r.text
    r = city("/v1/complaints", B, params={"limit": 500})
    assert cid in {c["id"] for c in ok(r)["items"]}
    assert {e["district"] for e in whole_feed(platform, "city", {CITY_HEADER: B})} == {
        B
    }
    # Naming A, it acts in A, where B's complaint is not; naming none, nowhere.
    assert city(f"/v1/complaints/{cid}", A).status_code == 404
    assert city(f"/v1/complaints/{mine}", A).status_code == 200
    r = city(f"/v1/complaints/{cid}", None)
    assert r.status_code in (403, 422) and not leaks(world, text_of(r)), r.text
    for role in set(ROLES) - {"city"}:
        unit = UNITS.get(role)
        for path in (f"/v1/complaints/{cid}", "/v1/complaints", "/v1/inbox"):
            r = platform.get(path, role, unit=unit, headers={CITY_HEADER: B})
            assert r.status_code == 403, (role, path, r.text)
            assert not leaks(world, text_of(r), [B]), (role, path)
