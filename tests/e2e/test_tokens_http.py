"""Tokens over HTTP: the city's scope, an administrator's list and revocation,
expiry, and failed authentications throttled per address and logged without the
token."""

import itertools
import json
import random
import time
from datetime import timedelta

import requests
from requests.adapters import HTTPAdapter
from structlog.testing import capture_logs

from services.gateway.auth import issue
from tests.e2e.conftest import AUTH_FAILURES
from tests.e2e.test_gateway import error, received

VIEW = {
    "token_id",
    "district",
    "role",
    "unit",
    "subject",
    "status",
    "created_at",
    "expires_at",
    "revoked_at",
    "revoked_reason",
}
# Every deliberate failure here comes from a loopback address of its own (all of
# 127/8 is this machine), so that no test here throttles another, nor the
# platform's other tests, which talk from 127.0.0.1.
ADDRESSES = (f"127.0.{random.randint(1, 250)}.{n}" for n in itertools.count(2))


class FromAddress(HTTPAdapter):
    """Connections from a chosen local address: the client address the gateway
    sees."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client_at(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(address))
    return session


def url(platform, path: str = "/v1/complaints") -> str:
    return platform.base + path


def bearer(token: str, district: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    if district:
        headers["X-Liuhen-District"] = district
    return headers


def test_a_city_token_reads_each_district_it_names(platform):
    binhai = received(platform)
    jinghai = received(platform, district="jinghai")
    city = platform.token("city", "city")
    for here, there in [("binhai", jinghai), ("jinghai", binhai)]:
        mine = binhai if here == "binhai" else jinghai
        r = platform.get(f"/v1/complaints/{mine}", headers=bearer(city, here))
        assert r.status_code == 200, r.text
        r = platform.get(f"/v1/complaints/{there}", headers=bearer(city, here))
        error(r, 404, "not_found")
        listed = platform.get("/v1/complaints?limit=100", headers=bearer(city, here))
        ids = [c["id"] for c in listed.json()["items"]]
        assert mine in ids and there not in ids


def test_a_city_token_must_name_a_district_of_the_directory(platform):
    city = platform.token("city", "city")
    body = error(platform.get("/v1/complaints", headers=bearer(city)), 422, "invalid")
    assert "X-Liuhen-District" in body["message"]
    for named in ("atlantis", "Not A District", ""):
        headers = {**bearer(city), "X-Liuhen-District": named}
        error(platform.get("/v1/complaints", headers=headers), 422, "invalid")


def test_another_token_naming_another_district_is_refused(platform):
    admin = platform.token("admin", "binhai")
    body = error(
        platform.get("/v1/complaints", headers=bearer(admin, "jinghai")),
        403,
        "forbidden",
    )
    assert "binhai" in body["message"] and "jinghai" in body["message"]
    r = platform.get("/v1/complaints", headers=bearer(admin, "binhai"))
    assert r.status_code == 200, r.text


def test_an_admin_lists_the_districts_tokens_and_never_a_hash(platform):
    tid, token = issue(platform.store, "binhai", "intake", subject="window-3")
    other, _ = issue(platform.store, "jinghai", "intake")
    r = platform.get("/v1/tokens", "admin")
    assert r.status_code == 200, r.text
    tokens = {t["token_id"]: t for t in r.json()["tokens"]}
    assert tid in tokens and other not in tokens
    assert set(tokens[tid]) == VIEW
    assert tokens[tid]["subject"] == "window-3"
    assert tokens[tid]["status"] == "active"
    assert token.split("_", 2)[2] not in r.text and "hash" not in r.text
    error(platform.get("/v1/tokens", "intake"), 403, "forbidden")


def test_an_admin_revokes_a_token_of_the_district_and_it_is_refused(platform):
    tid, token = issue(platform.store, "binhai", "intake")
    assert platform.get("/v1/complaints", headers=bearer(token)).status_code == 200
    error(platform.call("DELETE", f"/v1/tokens/{tid}", "intake"), 403, "forbidden")
    r = platform.call("DELETE", f"/v1/tokens/{tid}", "admin", district="jinghai")
    error(r, 404, "not_found")
    r = platform.call("DELETE", f"/v1/tokens/{tid}?reason=left the office", "admin")
    assert r.status_code == 200, r.text
    revoked = r.json()
    assert (revoked["status"], revoked["revoked_reason"]) == (
        "revoked",
        "left the office",
    )
    # A deliberate failure, from an address of its own (see ADDRESSES).
    r = client_at(next(ADDRESSES)).get(url(platform), headers=bearer(token))
    body = error(r, 401, "unauthenticated")
    assert "revoked" in body["message"]
    again = platform.call("DELETE", f"/v1/tokens/{tid}", "admin")
    assert again.json()["revoked_at"] == revoked["revoked_at"]  # nothing new
    stream = platform.store.read_stream(f"token-{tid}")
    assert [e.type for e in stream] == ["TokenIssued", "TokenRevoked"]
    r = platform.call("DELETE", "/v1/tokens/nosuchtokn", "admin")
    error(r, 404, "not_found")


def test_a_city_token_is_not_a_districts_to_revoke(platform):
    tid, _ = issue(platform.store, "binhai", "city")
    r = platform.call("DELETE", f"/v1/tokens/{tid}", "admin")
    body = error(r, 403, "forbidden")
    assert "liuhen token revoke" in body["message"]


def test_an_expired_token_is_refused_saying_so(platform):
    tid, token = issue(
        platform.store, "binhai", "intake", expires_in=timedelta(seconds=1)
    )
    time.sleep(1.2)
    r = client_at(next(ADDRESSES)).get(url(platform), headers=bearer(token))
    body = error(r, 401, "unauthenticated")
    assert f"token {tid} expired at" in body["message"]


def test_failures_from_one_address_are_throttled_and_logged_without_the_token(
    platform,
):
    tid, token = issue(platform.store, "binhai", "intake")
    secret = token.split("_", 2)[2]
    wrong = f"lh_{tid}_{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}"
    client, address = None, next(ADDRESSES)
    client = client_at(address)
    url = platform.base + "/v1/complaints"
    with capture_logs() as logs:
        r = client.get(url, headers={"Authorization": "Bearer lh_not-a-token"})
        error(r, 401, "unauthenticated")
        for _ in range(AUTH_FAILURES - 1):
            error(client.get(url, headers=bearer(wrong)), 401, "unauthenticated")
        # Now even the right token is refused from this address, for a while ...
        r = client.get(url, headers=bearer(token))
        body = error(r, 429, "too_many_failures")
        assert 0 < int(r.headers["Retry-After"]) <= 60
        assert body["details"]["retry_after"] == int(r.headers["Retry-After"])
        # ... and no token at all is no failure, nor is it logged.
        error(client.get(url), 429, "too_many_failures")
    # Another address is not held back.
    assert platform.get("/v1/complaints", headers=bearer(token)).status_code == 200
    failed = [e for e in logs if e["event"] == "authentication failed"]
    assert [(e["client"], e["reason"]) for e in failed] == [(address, "malformed")] + [
        (address, "wrong_secret")
    ] * (AUTH_FAILURES - 1)
    assert failed[0]["token_id"] is None and failed[1]["token_id"] == tid
    assert [e["failures"] for e in failed] == list(range(1, AUTH_FAILURES + 1))
    refused = [e for e in logs if e["event"] == "authentication refused"]
    assert [e["client"] for e in refused] == [address, address]
    written = json.dumps(logs, default=str)
    assert secret not in written and secret[:-1] not in written
    assert "lh_" not in written


def test_a_stale_token_polled_past_the_limit_locks_nobody_out(platform):
    # An integrator behind a shared proxy polls with a token that expired, then with
    # one revoked: each is refused (401) and logged, none is a guess, so the
    # address is never throttled and a valid token from it is still served.
    _, expired = issue(
        platform.store, "binhai", "intake", expires_in=timedelta(seconds=1)
    )
    revoked_id, revoked = issue(platform.store, "binhai", "intake")
    r = platform.call("DELETE", f"/v1/tokens/{revoked_id}", "admin")
    assert r.status_code == 200, r.text
    _, valid = issue(platform.store, "binhai", "intake")
    time.sleep(1.2)
    address = next(ADDRESSES)
    client = client_at(address)
    with capture_logs() as logs:
        for stale in (expired, revoked):
            for _ in range(AUTH_FAILURES + 2):
                r = client.get(url(platform), headers=bearer(stale))
                error(r, 401, "unauthenticated")
        assert client.get(url(platform), headers=bearer(valid)).status_code == 200
    failed = [e for e in logs if e["event"] == "authentication failed"]
    reasons = ["expired"] * (AUTH_FAILURES + 2) + ["revoked"] * (AUTH_FAILURES + 2)
    assert [(e["client"], e["reason"]) for e in failed] == [
        (address, reason) for reason in reasons
    ]
    assert all("failures" not in e for e in failed)  # logged, not counted
    assert "lh_" not in json.dumps(logs, default=str)


def test_open311_api_key_failures_are_throttled_and_logged_as_tokens_are(platform):
    token = platform.token("intake")
    wrong = "lh_abcdefghjk_" + "A" * 43
    address = next(ADDRESSES)
    client = client_at(address)
    form = {
        "api_key": wrong,
        "jurisdiction_id": "binhai",
        "service_code": "slow_action",
        "description": "道路维修申请提交两个月没有任何答复",
    }
    posted = url(platform, "/open311/v2/requests.json")
    listed = url(platform, "/open311/v2/requests.xml?jurisdiction_id=binhai")
    with capture_logs() as logs:
        for n in range(AUTH_FAILURES):
            if n % 2:  # reading with a key is checked as posting with one
                r = client.get(listed + f"&api_key={wrong}")
                assert r.status_code == 403, r.text
            else:
                r = client.post(posted, data=form)
                assert r.status_code == 403 and r.json()[0]["code"] == 403, r.text
        # Now even the right key is refused, in Open311's shape ...
        r = client.post(posted, data={**form, "api_key": token})
        assert r.status_code == 429, r.text
        assert r.json()[0]["code"] == 429
        assert 0 < int(r.headers["Retry-After"]) <= 60
        # ... and a bearer token from the same address too: one count for both.
        error(
            client.get(url(platform), headers=bearer(token)), 429, "too_many_failures"
        )
    failed = [e for e in logs if e["event"] == "authentication failed"]
    assert [(e["client"], e["reason"]) for e in failed] == [
        (address, "unknown_token")
    ] * AUTH_FAILURES
    assert [e["failures"] for e in failed] == list(range(1, AUTH_FAILURES + 1))
    refused = [e for e in logs if e["event"] == "authentication refused"]
    assert [e["client"] for e in refused] == [address, address]
    assert "A" * 43 not in json.dumps(logs, default=str)
    # Another address is not held back.
    r = platform.get(
        f"/open311/v2/requests.json?jurisdiction_id=binhai&api_key={token}"
    )
    assert r.status_code == 200, r.text


def test_a_pasted_token_is_not_revoked_nor_echoed(platform):
    token = platform.token("intake")
    r = platform.call("DELETE", f"/v1/tokens/{token}", "admin")
    body = error(r, 404, "not_found")
    assert "give the token id" in body["message"]
    assert token.split("_")[1] not in r.text and token[-20:] not in r.text
    assert platform.get("/v1/complaints", headers=bearer(token)).status_code == 200


def test_the_openapi_document_tells_of_the_city_header_and_the_token_routes(platform):
    doc = platform.get("/v1/openapi.json").json()
    scheme = doc["components"]["securitySchemes"]["bearer"]["description"]
    assert "X-Liuhen-District" in scheme and "429" in scheme
    assert set(doc["paths"]["/v1/tokens"]) == {"get"}
    assert set(doc["paths"]["/v1/tokens/{token_id}"]) == {"delete"}


def test_every_operation_needing_a_token_documents_what_authentication_answers(
    platform,
):
    # principal answers these before any route runs: 401, 403 (X-Liuhen-District
    # naming another district), 422 (a city token's header), 429 (throttled).
    doc = platform.get("/v1/openapi.json").json()
    missing = {
        f"{method.upper()} {path}": sorted(
            {"401", "403", "422", "429"} - set(op["responses"])
        )
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if op.get("security") != []
    }
    assert len(missing) > 50
    assert {k: v for k, v in missing.items() if v} == {}
    throttled = doc["paths"]["/v1/complaints/{complaint_id}"]["get"]["responses"]
    assert "Retry-After" in throttled["429"]["headers"]
    for path in (
        "/open311/v2/requests.{format}",
        "/open311/v2/requests/{service_request_id}.{format}",
    ):
        assert {"403", "429"} <= set(doc["paths"][path]["get"]["responses"])
