"""The HTTP edge: who may do what, where, and what a client hears when it is refused."""

import base64
import re

import psycopg
import pytest
from nameko.web.handlers import HttpRequestHandler
from openapi_spec_validator import validate

from contracts.accountability import CASE_ACTIONS, CLUE_ACTIONS
from contracts.complaints import ACTIONS
from contracts.issues import ACTIONS as ISSUE_ACTIONS
from eventlog.store import EventStore
from services.gateway.service import Gateway

NEW = {
    "channel": "web",
    "category": "favours",
    "description": "办理施工许可时被暗示要请吃饭",
    "complainant": {"name": "李四", "phone": "13700001111"},
}


def received(platform, body=NEW, district="binhai") -> str:
    r = platform.post("/v1/complaints", "intake", district=district, json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()["error"]
    assert body["code"] == code and body["message"]
    return body


def stream_length(database, cid) -> int:
    with psycopg.connect(database.app, autocommit=True) as conn:
        return len(EventStore(conn).read_stream(f"complaint-{cid}"))


def test_a_user_of_another_district_gets_404_for_a_complaint(platform):
    cid = received(platform)
    r = platform.get(f"/v1/complaints/{cid}", "intake", district="jinghai")
    error(r, 404, "not_found")
    r = platform.post(
        f"/v1/complaints/{cid}/accept", "intake", district="jinghai", json={}
    )
    error(r, 404, "not_found")
    listed = platform.get("/v1/complaints", "intake", district="jinghai").json()
    assert cid not in [c["id"] for c in listed["items"]]


def test_the_unit_complained_about_never_sees_the_complainant(platform):
    cid = received(platform, {**NEW, "unit_complained": "housing"})
    platform.post(
        f"/v1/complaints/{cid}/accept", "intake", json={"note": "李四本人来电"}
    )
    platform.post(f"/v1/complaints/{cid}/dispatch", "intake", json={"unit": "housing"})
    for path in (f"/v1/complaints/{cid}", "/v1/complaints?unit=housing"):
        r = platform.get(path, "unit_handler", unit="housing")
        assert r.status_code == 200, r.text
        assert "李四" not in r.text and "13700001111" not in r.text
    assert "李四" in platform.get(f"/v1/complaints/{cid}", "inspector").text
    assert "李四" not in platform.get(f"/v1/complaints/{cid}", "supervisor").text


def test_another_units_handler_does_not_learn_the_complaint_exists(platform):
    cid = received(platform)
    r = platform.get(f"/v1/complaints/{cid}", "unit_handler", unit="housing")
    error(r, 404, "not_found")
    r = platform.post(f"/v1/complaints/{cid}/sign", "unit_handler", unit="housing")
    error(r, 404, "not_found")


def test_an_illegal_transition_names_state_and_command_and_appends_nothing(
    platform, database
):
    cid = received(platform)
    before = stream_length(database, cid)
    r = platform.post(f"/v1/complaints/{cid}/feedback", "intake", json={"text": "x"})
    body = error(r, 409, "illegal_transition")
    assert "received" in body["message"] and "feedback" in body["message"]
    assert stream_length(database, cid) == before


def test_roles_are_enforced(platform):
    cid = received(platform)
    body = error(
        platform.post(f"/v1/complaints/{cid}/accept", "integrator", json={}),
        403,
        "forbidden",
    )
    assert body["details"]["allowed_roles"] == ["intake"]
    error(
        platform.post("/v1/complaints", "unit_handler", unit="housing", json=NEW),
        403,
        "forbidden",
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer lh_abcdefghjk_" + "A" * 43},
    ],
)
def test_requests_without_a_valid_token_get_401(platform, headers):
    r = platform.get("/v1/complaints", headers=headers)
    error(r, 401, "unauthenticated")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"{not json", 400, "malformed_json"),
        (b"[1, 2]", 422, "invalid"),
        (
            b'{"channel": "pigeon", "category": "favours", "description": "x"}',
            422,
            "invalid",
        ),
        (b'{"category": "favours", "description": "x"}', 422, "invalid"),
        (
            b'{"channel": "web", "category": "favours", "description": "x", "oops": 1}',
            422,
            "invalid",
        ),
        (
            b'{"channel": "web", "category": "favours", "description": "x",'
            b' "location": {"lat": 999}}',
            422,
            "invalid",
        ),
        (
            b'{"channel": "web", "category": "favours", "description": "x",'
            b' "unit_complained": "nowhere"}',
            422,
            "invalid",
        ),
        ("\udcff".encode("utf-8", "surrogatepass"), 400, "malformed_json"),
        # NUL: PostgreSQL's text and the log's canonical form refuse it; so does the API
        (
            b'{"channel": "web", "category": "favours", "description": "a\\u0000b"}',
            422,
            "invalid",
        ),
        (
            b'{"channel": "web", "category": "favours", "description": "\\ud800"}',
            422,
            "invalid",
        ),
    ],
)
def test_bad_input_is_refused_with_a_named_problem_and_never_a_500(
    platform, body, status, code
):
    r = platform.post(
        "/v1/complaints",
        "intake",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    error(r, status, code)


def test_invalid_fields_are_named_in_the_details(platform):
    r = platform.post("/v1/complaints", "intake", json={"channel": "pigeon"})
    details = error(r, 422, "invalid")["details"]
    assert set(details) >= {"channel", "category", "description"}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/complaints/C-2026-%00",
        "/v1/complaints/' OR 1=1 --",
        "/v1/complaints/" + "C" * 5000,
        "/v1/track/%00%00%00%00%00%00%00%00%00%00%00%00",
    ],
)
def test_ids_that_cannot_be_ids_are_not_found(platform, path):
    error(platform.get(path, "intake"), 404, "not_found")


def test_unknown_routes_and_actions_answer_json_404(platform):
    error(platform.get("/v1/nothing-here", "intake"), 404, "not_found")
    cid = received(platform)
    r = platform.post(f"/v1/complaints/{cid}/teleport", "intake", json={})
    assert "accept" in error(r, 404, "not_found")["details"]["actions"]


def test_an_anonymous_complainant_follows_the_complaint_by_query_code(platform):
    r = platform.post("/v1/complaints", "intake", json={**NEW, "complainant": None})
    code, cid = r.json()["query_code"], r.json()["id"]
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    tracked = platform.get(
        f"/v1/track/{code.lower()}"
    ).json()  # read out loud: any case
    assert tracked == {
        "complaint_id": cid,
        "district": "binhai",
        "status": "received",
        "feedback": None,
        "updated_at": tracked["updated_at"],
    }
    error(platform.get("/v1/track/AAAA-BBBB-CCCC"), 404, "not_found")


def test_listing_filters_and_pages_without_repeats(platform):
    ids = {received(platform, {**NEW, "channel": "letter"}) for _ in range(5)}
    seen, cursor = [], None
    while True:
        q = "channel=letter&limit=2" + (f"&after={cursor}" if cursor else "")
        page = platform.get(f"/v1/complaints?{q}", "intake").json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert ids <= set(seen) and len(seen) == len(set(seen))
    error(platform.get("/v1/complaints?limit=0", "intake"), 422, "invalid")
    error(platform.get("/v1/complaints?status=lost", "intake"), 422, "invalid")
    error(platform.get("/v1/complaints?after=garbage", "intake"), 422, "invalid")
    nul_cursor = base64.urlsafe_b64encode(b'["2026-01-01", "C\\u0000"]').decode()
    error(platform.get(f"/v1/complaints?after={nul_cursor}", "intake"), 422, "invalid")


def gateway_routes() -> set[str]:
    """Every route the gateway serves (its own and its Open311 mixin's), as OpenAPI
    spells paths."""
    routes = set()
    for name in dir(Gateway):
        for ep in getattr(getattr(Gateway, name), "nameko_entrypoints", ()):
            if isinstance(ep, HttpRequestHandler):
                routes.add(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", ep.url))
    return routes


def test_the_openapi_document_validates_and_lists_every_route(platform):
    doc = platform.get("/v1/openapi.json").json()
    validate(doc)
    # The JSON 404s for everything else are not routes to document.
    served = gateway_routes() - {"/v1/{rest}", "/v1/", "/open311/v2/{rest}"}
    action_routes = {
        "/v1/complaints/{complaint_id}/{action}": ACTIONS,
        "/v1/issues/{issue_id}/{action}": ISSUE_ACTIONS,
        "/v1/clues/{clue_id}/{action}": CLUE_ACTIONS,
        "/v1/cases/{case_id}/{action}": CASE_ACTIONS,
    }
    assert set(action_routes) <= served and "/open311/v2/{tail}" in served
    documented = set(doc["paths"])
    # Open311 routes take `name.format` as one segment: `{tail}` in the route.
    spelled = {re.sub(r"[\w{}]+\.\{format\}$", "{tail}", p) for p in documented}
    assert served - set(action_routes) <= spelled, served - spelled
    for route, actions in action_routes.items():  # one documented path per action
        for action in actions:
            assert route.replace("{action}", action) in documented
