"""Sealed complaints over HTTP and AMQP: a complaint about a principal leader of binhai,
received by binhai's intake, is recorded at the level above (the city) and binhai
never sees it again: not by id, not in a list, a count, a feed, a webhook, an audit
view or a routing key. The city sees it, handles it, and sees who forwarded it.

Every binhai role is asked the same questions before and after; the answers must not
change, and a sealed id must be answered exactly as an id that does not exist. The
city's side is checked too, so that silence in binhai means sealed, not slow.
"""

import json
import re
import time
import uuid
from datetime import datetime

import psycopg
import pytest

from contracts.vocabulary import ROLES
from eventlog.deadlines import TZ
from services.complaints.views import SEALED_NOTE
from tests.e2e.test_webhooks import Receiver
from tests.integration.amqp_helpers import Subscriber

# Every binhai role (`city` is the level above, not a binhai role), a unit handler of
# binhai's discipline commission: the city's handling unit has the same code.
BINHAI_ROLES = [r for r in ROLES if r != "city"]
UNIT = "discipline"
CITY = {"district": "city"}


def who(role: str) -> dict:
    return {"unit": UNIT} if role == "unit_handler" else {}


def report(marker: str, **extra) -> dict:
    return {
        "channel": "12388",
        "kind": "report",
        "category": "favours",
        "description": f"区纪委书记逢年过节收受下属单位礼金，有账可查。{marker}",
        "unit_complained": "discipline",
        "persons": ["郑丽华"],  # binhai's principal leader, by name: sealed
        **extra,
    }


def until(what, timeout=30.0, name="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {name}")


def ids(platform, role, **params) -> list[str]:
    """Every complaint id the role can list (all pages)."""
    found, after = [], None
    while True:
        query = {"limit": 500, **params, **({"after": after} if after else {})}
        r = platform.get("/v1/complaints", role, params=query, **who(role))
        if r.status_code != 200:
            return [f"status {r.status_code}"]
        found += [c["id"] for c in r.json()["items"]]
        after = r.json()["next"]
        if not after:
            return sorted(found)


def stats(platform, role) -> dict | int:
    """Per unit, every figure but `overdue` (a timer may mark another test's)."""
    r = platform.get("/v1/units/stats", role, **who(role))
    if r.status_code != 200:
        return r.status_code
    figures = ("complaints", "replied_on_time", "satisfied", "returns")
    return {u["unit"]: [u[f] for f in figures] for u in r.json()["units"]}


def counts(platform) -> dict:
    """What every binhai role counts: lists (also filtered by what the sealed
    complaint is) and every unit's figures."""
    out = {}
    for role in BINHAI_ROLES:
        out[role] = {
            "all": ids(platform, role),
            "unit": ids(platform, role, unit=UNIT),
            "channel": ids(platform, role, channel="12388"),
            "category": ids(platform, role, category="favours"),
            "stats": stats(platform, role),
        }
    return out


READS = [
    "/v1/complaints?limit=500",
    "/v1/units/stats",
    "/v1/assessment?period=2026-09",
    f"/v1/assessment/units/{UNIT}?period=2026-09",
    "/v1/clues?limit=500",
    "/v1/cases?limit=500",
    "/v1/inbox",
    "/v1/audit/verify",
]


def absent_everywhere(platform, secrets: list[str], feed_after: int) -> None:
    """No binhai role reads any of `secrets` on any list, count, feed or audit
    route (Open311's public view and its keyed view too)."""
    for role in BINHAI_ROLES:
        for path in [*READS, f"/v1/events?after={feed_after}&limit=1000"]:
            r = platform.get(path, role, **who(role))
            assert r.status_code in (200, 403), (role, path, r.text)
            for secret in secrets:
                assert secret not in r.text, (role, path)
    key = platform.token("intake")
    for params in ({}, {"api_key": key}):
        r = platform.get(
            "/open311/v2/requests.json",
            params={"jurisdiction_id": "binhai", **params},
        )
        assert r.status_code == 200 and not any(s in r.text for s in secrets)


def same_as_missing(platform, role, path: str, sid: str, **kw) -> None:
    """`path` with the sealed id is answered exactly as with an id nobody has."""
    missing = f"C-2026-{uuid.uuid4().hex[:8].upper()}"
    method = kw.pop("method", "GET")
    sealed = platform.call(method, path.format(sid), role, **who(role), **kw)
    absent = platform.call(method, path.format(missing), role, **who(role), **kw)
    assert sealed.status_code == absent.status_code, (role, path, sealed.text)
    assert sealed.status_code in (403, 404), (role, path, sealed.status_code)
    assert sealed.text.replace(sid, "ID") == absent.text.replace(missing, "ID")


def city_act(platform, sid, action, role, body=None, unit=None) -> dict:
    r = platform.post(
        f"/v1/complaints/{sid}/{action}", role, unit=unit, json=body or {}, **CITY
    )
    assert r.status_code == 200, (action, r.text)
    return r.json()


def find_in_city(platform, marker: str) -> dict:
    r = platform.get("/v1/complaints", "intake", params={"limit": 500}, **CITY)
    assert r.status_code == 200, r.text
    [found] = [c for c in r.json()["items"] if marker in c["description"]]
    return found


def feed_head(database) -> int:
    with psycopg.connect(database.admin, autocommit=True) as conn:
        return conn.execute(
            "SELECT coalesce(max(position), 0) FROM eventlog.events"
            " WHERE district = 'binhai'"
        ).fetchone()[0]


def events_naming(database, sid: str) -> list[tuple[str, str, str]]:
    """(district, stream, type) of every event in the log that names `sid`: its
    stream, its case, or anywhere in its data."""
    with psycopg.connect(database.admin, autocommit=True) as conn:
        return conn.execute(
            "SELECT district, stream_id, type FROM eventlog.events"
            " WHERE stream_id = %(s)s OR correlation_id = %(s)s"
            " OR data::text LIKE %(like)s ORDER BY position",
            {"s": f"complaint-{sid}", "like": f"%{sid}%"},
        ).fetchall()


@pytest.fixture
def clock(platform):
    """A working Monday of a year the official calendar knows; put back after."""
    was = platform.clock.now
    platform.clock.now = datetime(2026, 9, 14, 10, 0, tzinfo=TZ)
    yield platform.clock
    platform.clock.now = was


def test_a_complaint_about_binhais_principal_leader_is_the_citys_and_never_binhais(
    platform, database, amqp_uri, clock
):
    marker = f"sealed-{uuid.uuid4().hex[:12]}"
    binhai_bus = Subscriber(amqp_uri, "binhai.#")
    city_bus = Subscriber(amqp_uri, "city.complaint.#")
    hook = Receiver()
    r = platform.post(
        "/v1/webhooks",
        "admin",
        json={"url": hook.url, "event_types": ["ComplaintReceived"]},
    )
    assert r.status_code == 201, r.text
    webhook = r.json()["id"]
    try:
        head = feed_head(database)
        before = counts(platform)

        # Binhai's intake receives it: accepted, and nothing it could look up.
        r = platform.post("/v1/complaints", "intake", json=report(marker))
        assert r.status_code == 202, r.text
        code = r.json()["query_code"]
        assert r.json() == {"sealed": True, "forwarded_to": "city", "query_code": code}
        assert "Location" not in r.headers and code  # anonymous: a query code
        received_at = clock.now

        # The city has it, and knows who forwarded it from where.
        seen = find_in_city(platform, marker)
        sid = seen["id"]
        assert (seen["district"], seen["forwarded_from"]) == ("city", "binhai")
        assert seen["received_by"] == f"intake:{clerk(platform)}"
        assert seen["unit_complained"] is None  # binhai's unit code, kept apart
        handle_in_city(platform, sid)
        city_sees_everything_that_followed(platform, database, city_bus, sid)
        trace = forwarding_trace(platform, sid)
        assert trace["actor"] == f"intake:{clerk(platform)}"
        assert datetime.fromisoformat(trace["occurred_at"]) == received_at

        # The code binhai's clerk read out: the status and that the level above
        # has it; not the id, the city, nor the city's feedback (已立案审查).
        tracked = platform.get(f"/v1/track/{code}")
        assert tracked.status_code == 200, tracked.text
        assert set(tracked.json()) == {"status", "note"}, tracked.text
        assert sid not in tracked.text and "city" not in tracked.text
        assert "已立案审查" not in tracked.text
        for district in ("binhai", "city"):
            r = platform.get(
                f"/open311/v2/tokens/{code}.json", params={"jurisdiction_id": district}
            )
            assert r.status_code == 404 and sid not in r.text, r.text

        # Binhai: the same lists and counts, the id unknown, nothing anywhere.
        assert counts(platform) == before
        for role in BINHAI_ROLES:
            for path in (
                "/v1/complaints/{}",
                "/v1/audit/cases/{}",
                "/v1/audit/cases/{}/dossier",
                "/v1/audit/streams/complaint-{}",
                "/v1/clues?source_id={}",
            ):
                if "clues" in path:
                    r = platform.get(path.format(sid), role, **who(role))
                    assert r.status_code == 403 or r.json()["items"] == []
                else:
                    same_as_missing(platform, role, path, sid)
            same_as_missing(
                platform, role, "/v1/complaints/{}/accept", sid, method="POST", json={}
            )
        for path in ("/open311/v2/requests/{}.json", "/open311/v2/tokens/{}.json"):
            ref = code if "tokens" in path else sid
            r = platform.get(path.format(ref), params={"jurisdiction_id": "binhai"})
            assert r.status_code == 404, r.text
        absent_everywhere(platform, [sid, marker, code], head)

        # By construction: every event of its case is the city's; binhai's log has
        # none since, and the published ones went out as city.*.
        named = events_naming(database, sid)
        assert {d for d, _, _ in named} == {"city"}
        assert {t for _, _, t in named} >= {"ComplaintReceived", "ClueRegistered"}
        assert any(t.startswith("Notification") for _, _, t in named)

        # A binhai complaint after all of it: the relay publishes in commit order,
        # so once binhai's subscriber and webhook have it, they would have had
        # anything of the sealed one routed to binhai before it.
        r = platform.post(
            "/v1/complaints",
            "intake",
            json=report("control")
            | {
                "persons": ["窗口工作人员"],
                "channel": "12345",
                "kind": "complaint",
            },
        )
        assert r.status_code == 201, r.text
        control = f"complaint-{r.json()['id']}"
        merged = [
            platform.post(f"{r.headers['Location']}/merge", "intake", json={"into": i})
            for i in (sid, "C-2026-ZZZZZZZZ")
        ]
        assert merged[0].status_code == merged[1].status_code == 404
        assert merged[0].text.replace(sid, "ID") == merged[1].text.replace(
            "C-2026-ZZZZZZZZ", "ID"
        )
        got = binhai_bus.drain(
            lambda m: any(x.envelope["stream_id"] == control for x in m)
        )
        assert any(m.envelope["stream_id"] == control for m in got)
        assert not [m for m in got if sid in _text(m.body) or marker in _text(m.body)]
        until(lambda: hook.of(control), name="binhai's webhook delivery")
        assert not [b for _, b, _ in hook.requests if sid.encode() in b]
    finally:
        platform.call("DELETE", f"/v1/webhooks/{webhook}", "admin")
        hook.close()
        binhai_bus.close()
        city_bus.close()


def clerk(platform) -> str:
    """The subject of binhai's intake token: `intake-` and its id's first four
    (services/gateway/auth.py, issued without a subject)."""
    return f"intake-{platform.token('intake').split('_')[1][:4]}"


def handle_in_city(platform, sid: str) -> None:
    """The city's discipline commission handles it: a return, a substantiated reply
    (a clue), a dissatisfied rating (a reopen): each would count for binhai's
    `discipline` unit if anything leaked."""
    city_act(platform, sid, "accept", "intake")
    city_act(platform, sid, "dispatch", "intake", {"unit": UNIT})
    city_act(platform, sid, "return", "unit_handler", {"reason": "转办"}, unit=UNIT)
    city_act(platform, sid, "dispatch", "intake", {"unit": UNIT})
    city_act(platform, sid, "sign", "unit_handler", unit=UNIT)
    city_act(
        platform,
        sid,
        "reply",
        "unit_handler",
        {"result": "经查属实，已立案审查", "substantiated": True},
        unit=UNIT,
    )
    city_act(platform, sid, "feedback", "intake", {"text": "已立案审查"})
    done = city_act(platform, sid, "rate", "intake", {"rating": "dissatisfied"})
    assert (done["status"], done["returns"], done["reopened"]) == ("reopened", 1, 1)


def city_sees_everything_that_followed(platform, database, bus, sid) -> None:
    stream = f"complaint-{sid}"
    got = bus.drain(lambda m: sum(x.envelope["stream_id"] == stream for x in m) >= 10)
    mine = [m for m in got if m.envelope["stream_id"] == stream]
    assert len(mine) == 10 and mine[0].envelope["type"] == "ComplaintReceived"
    assert {m.delivery_info["routing_key"].split(".")[0] for m in mine} == {"city"}
    assert "forwarded_from" not in mine[0].envelope["data"]  # the trace is internal
    until(
        lambda: platform.get(
            "/v1/clues", "inspector", params={"source_id": sid}, **CITY
        ).json()["items"],
        name="the city's clue",
    )
    until(
        lambda: stream
        in platform.get("/v1/assessment?period=2026-09", "inspector", **CITY).text,
        name="the city's assessment counting it",
    )
    for role, kw in (("city", {}), ("inspector", {}), ("unit_handler", {"unit": UNIT})):
        r = platform.get(f"/v1/complaints/{sid}", role, **kw, **CITY)
        assert r.status_code == 200 and r.json()["forwarded_from"] == "binhai"
    # A city-scope token sees it in the city's jurisdiction, not in binhai's.
    r = platform.get(f"/v1/complaints/{sid}", "city", district="binhai")
    assert r.status_code == 404, r.text


def forwarding_trace(platform, sid: str) -> dict:
    """The city inspector's audit history begins with the forwarding: which
    district received it, when, by whom, why."""
    r = platform.get(f"/v1/audit/cases/{sid}", "inspector", **CITY)
    assert r.status_code == 200, r.text
    first = r.json()["entries"][0]
    assert first["type"] == "ComplaintReceived" and first["verified"]
    change = {c["field"]: c["after"] for c in first["changes"]}
    assert change["forwarded_from"] == {
        "district": "binhai",
        "unit_complained": "discipline",
        "flagged_by_intake": False,
        "principal_leaders": ["zheng-lihua"],
    }
    assert re.match(r"received in binhai, about a principal leader", first["reason"])
    dossier = platform.get(f"/v1/audit/cases/{sid}/dossier", "inspector", **CITY)
    assert dossier.status_code == 200 and "binhai" in dossier.text
    return first


def _text(body) -> str:
    return body.decode() if isinstance(body, bytes) else body


# ---- how it is identified, and where it cannot go ----------------------------------


def test_the_intake_flag_seals_it_and_the_answer_names_nothing(platform, clock):
    marker = f"flagged-{uuid.uuid4().hex[:12]}"
    body = {
        "channel": "web",
        "category": "arbitrary",
        "description": f"区长违规干预工程招标。{marker}",
        "about_principal_leader": True,
    }
    listed = ids(platform, "intake")
    for role in ("intake", "integrator"):
        r = platform.post("/v1/complaints", role, json=body)
        assert r.status_code == 202, r.text
        assert set(r.json()) == {"sealed", "forwarded_to", "query_code"}
    # The anonymous complainant follows it by the code: its status, and that the
    # level above handles it; the clerk holds the code too, so nothing more.
    tracked = platform.get(f"/v1/track/{r.json()['query_code']}").json()
    assert tracked == {"status": "received", "note": SEALED_NOTE}
    # A named complainant: sealed too, no code (the city contacts them).
    named = dict(body, complainant={"name": "孙七", "phone": "13900001111"})
    r = platform.post("/v1/complaints", "intake", json=named)
    assert r.status_code == 202 and r.json()["query_code"] is None, r.text
    assert sum(marker in c["description"] for c in city_list(platform)) == 3
    assert ids(platform, "intake") == listed


def test_jinghais_principal_leader_goes_to_the_city_as_well(platform, clock):
    marker = f"jinghai-{uuid.uuid4().hex[:12]}"
    body = report(marker, persons=["陈志远"], unit_complained=None)
    r = platform.post("/v1/complaints", "intake", json=body, district="jinghai")
    assert r.status_code == 202 and r.json()["forwarded_to"] == "city", r.text
    [seen] = [c for c in city_list(platform) if marker in c["description"]]
    assert seen["forwarded_from"] == "jinghai"


def test_a_units_main_leader_is_the_districts_own_business(platform, clock):
    # 李明 leads binhai's development and reform commission: the district's
    # discipline commission, above the unit, handles that. Not sealed.
    body = report("unit-leader", persons=["李明"], unit_complained="development_reform")
    r = platform.post("/v1/complaints", "intake", json=body)
    assert r.status_code == 201, r.text
    assert platform.get(r.headers["Location"], "intake").json()["district"] == "binhai"


def test_the_city_s_own_principal_leader_cannot_be_sealed_anywhere_here(
    platform, database, clock
):
    # The province is not on this platform: refused, never recorded in the city.
    marker = f"city-{uuid.uuid4().hex[:12]}"
    body = report(marker, persons=["沈国梁"], unit_complained=None)
    r = platform.post("/v1/complaints", "intake", json=body, **CITY)
    assert r.status_code == 422, r.text
    assert "no level above city" in r.json()["error"]["message"]
    with psycopg.connect(database.admin, autocommit=True) as conn:
        found = conn.execute(
            "SELECT count(*) FROM eventlog.events WHERE data::text LIKE %s",
            (f"%{marker}%",),
        ).fetchone()[0]
    assert found == 0


def city_list(platform) -> list[dict]:
    r = platform.get("/v1/complaints", "intake", params={"limit": 500}, **CITY)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_the_openapi_document_describes_the_sealed_answer(platform):
    doc = platform.get("/v1/openapi.json").json()
    post = doc["paths"]["/v1/complaints"]["post"]["responses"]
    assert post["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Sealed"
    }
    assert json.dumps(doc["components"]["schemas"]["Sealed"])
