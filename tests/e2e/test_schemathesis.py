"""Schemathesis against the live gateway: every operation of /v1/openapi.json, with a
token of a role that may call it, answers no 5xx and only what the document says
(a documented status code, its content type, its body schema).

- Operations are generated from `openapi.document()`, the function the gateway
  serves /v1/openapi.json from: schemathesis's lazy loader (`from_fixture`) fails on
  pytest 9 (it sets `Function._nodeid`, which pytest 9.2 no longer has), and the
  platform's URL exists only once its fixture runs. The first test checks that the
  live document is exactly that one.
- Everything runs in a district of its own (a copy of binhai's directory, with no
  level above), so the generated complaints, campaigns, rules, templates, published
  assessments and webhooks never touch the districts other tests read.
- Path ids: each operation gets one fresh object of its own (a complaint, an issue, a
  case...) for its positive cases, so that generated bodies reach the services
  instead of stopping at a 404.
- Bounded and deterministic: the coverage phase (boundary values and invalid
  inputs, deterministic by construction) plus FUZZ_EXAMPLES derandomized Hypothesis
  examples per operation, no example database, the clock set: about 3,000
  requests, a minute.
"""

import json
import re
from datetime import datetime

import hypothesis
import psycopg
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contracts.webhooks import url_problem
from eventlog.deadlines import TZ
from eventlog.store import EventStore
from services.directory.load import load
from services.gateway import accountability_routes, openapi, policy
from tests.e2e.conftest import DISTRICTS

DISTRICT = "shiyan"  # 试验: the fuzzer's own district
UNIT = "housing"
NOW = datetime(2026, 9, 14, 9, 0, tzinfo=TZ)
FUZZ_EXAMPLES = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Webhook endpoints the fuzzer subscribes are moved here: a closed port on this
# machine, so that the sender never calls a generated host.
LOOPBACK = "http://127.0.0.1:9/schemathesis"

# Operation label -> the roles that may call it (the first in sorted order is used).
ROLES = [
    (r"POST /v1/complaints/\{complaint_id\}/(\w+)", lambda a: policy.ACTIONS[a]),
    (r"POST /v1/issues/\{issue_id\}/(\w+)", lambda a: policy.ISSUE_ACTIONS[a]),
    (r"POST /v1/cases/\{case_id\}/(\w+)", accountability_routes.CASE_ROLES.get),
    (r"\w+ /v1/(clues|cases|audit).*", lambda _: {"inspector"}),
    (r"\w+ /v1/(campaigns|issues|assessment).*", lambda _: {"campaign_office"}),
    (r"\w+ /v1/events", lambda _: {"integrator"}),
    (r"\w+ /v1/(notify|webhooks|tokens).*", lambda _: {"admin"}),
    (r"GET /v1/(track/.*|health|openapi.json|asyncapi.json)", lambda _: None),
    (r"\w+ /open311/.*", lambda _: None),
    (r"\w+ /v1/.*", lambda _: {"intake"}),
]

schema = schemathesis.openapi.from_dict(openapi.document())
# The coverage phase would also try every undeclared method on every path: each is
# the gateway's JSON 404 (test_gateway.py), and they would double the run.
schema.config.phases.coverage.unexpected_methods = set()


def role_for(label: str) -> str | None:
    for pattern, roles in ROLES:
        found = re.fullmatch(pattern, label)
        if found:
            allowed = roles(found.group(1) if found.groups() else None)
            return sorted(allowed)[0] if allowed else None
    raise AssertionError(f"no role chosen for {label}")


class Objects:
    """Fresh objects of the trial district, one per (operation, path parameter)."""

    def __init__(self, platform):
        self.platform, self.made = platform, {}

    def call(self, method, path, role, body=None, unit=None) -> dict:
        r = self.platform.call(
            method, path, role, district=DISTRICT, unit=unit, json=body
        )
        assert r.status_code in (200, 201), r.text
        return r.json()

    def complaint(self) -> str:
        body = {"channel": "web", "category": "favours", "description": "样例"}
        return self.call("POST", "/v1/complaints", "intake", body)["id"]

    def campaign(self) -> str:
        phase = {"phase": "mobilise", "starts_on": "2026-09-01"}
        body = {"name": "试验", "phases": [{**phase, "ends_on": "2026-12-31"}]}
        return self.call("POST", "/v1/campaigns", "campaign_office", body)["id"]

    def issue(self) -> str:
        body = {"campaign_id": self.campaign(), "list": "problem", "unit": UNIT}
        body["manifestation"] = "样例"
        return self.call("POST", "/v1/issues", "campaign_office", body)["id"]

    def clue(self) -> str:
        body = {"kind": "report", "unit": UNIT, "summary": "样例"}
        return self.call("POST", "/v1/clues", "inspector", body)["id"]

    def case(self) -> str:
        clue = self.clue()
        self.call("POST", f"/v1/clues/{clue}/verify", "inspector", {})
        filed = self.call(
            "POST", f"/v1/clues/{clue}/file", "inspector", {"reason": "x"}
        )
        return filed["case_id"]

    def webhook(self) -> str:
        body = {"url": LOOPBACK, "event_types": ["*"]}
        return self.call("POST", "/v1/webhooks", "admin", body)["id"]

    def stream(self) -> str:
        return f"complaint-{self.complaint()}"

    MAKERS = {
        "complaint_id": complaint,
        "campaign_id": campaign,
        "issue_id": issue,
        "clue_id": clue,
        "case_id": case,
        "ref": case,
        "webhook_id": webhook,
        "stream_id": stream,
    }

    def fill(self, case) -> None:
        """A real id for each id the case was to send valid (by the schema, any
        string is: generated ones are simply not found)."""
        path = case.meta.components.get(ParameterLocation.PATH) if case.meta else None
        if path is not None and path.mode is not GenerationMode.POSITIVE:
            return
        for name in case.path_parameters or {}:
            if name in self.MAKERS:
                key = (case.operation.label, name)
                if key not in self.made:
                    self.made[key] = self.MAKERS[name](self)
                case.path_parameters[name] = self.made[key]


@pytest.fixture(scope="module")
def objects(platform, database, tmp_path_factory):
    path = tmp_path_factory.mktemp("directory") / f"{DISTRICT}.yml"
    text = (DISTRICTS / "binhai.yml").read_text(encoding="utf-8")
    text = text.replace("district: binhai", f"district: {DISTRICT}")
    # No level above: a complaint about a principal leader is refused, not sealed
    # into the city that other tests read.
    path.write_text(re.sub(r"(?m)^level_above:.*$", "", text), encoding="utf-8")
    with psycopg.connect(database.app, autocommit=True) as conn:
        load(EventStore(conn), path, actor="test:setup")
    # The same day whichever tests moved the shared clock before: the same answers.
    before, platform.clock.now = platform.clock.now, NOW
    yield Objects(platform)
    platform.clock.now = before
    # The subscriptions made stop here: the sender has nothing left to try.
    hooks = platform.get("/v1/webhooks", "admin", district=DISTRICT).json()["items"]
    for hook in hooks:
        if hook["status"] == "active":
            platform.call("DELETE", f"/v1/webhooks/{hook['id']}", "admin", DISTRICT)


def test_the_operations_tested_are_the_live_documents(platform):
    served = platform.get("/v1/openapi.json").json()
    assert served == json.loads(json.dumps(openapi.document(), default=str))


@schema.parametrize()
@hypothesis.settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_answers_as_documented(case, platform, objects):
    role = role_for(case.operation.label)
    headers = {}
    if role:
        unit = UNIT if role == "unit_handler" else None
        token = platform.token(role, DISTRICT, unit)
        headers["Authorization"] = f"Bearer {token}"
    objects.fill(case)
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("url"), str):
        if url_problem(body["url"]) is None:
            body["url"] = LOOPBACK
    case.call_and_validate(base_url=platform.base, headers=headers, checks=CHECKS)
