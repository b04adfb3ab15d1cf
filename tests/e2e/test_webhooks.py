"""Webhooks as an integrator lives them: an admin subscribes an endpoint over HTTP, the
endpoint (a real HTTP server here) receives the events signed as the Standard Webhooks
specification says, a failing endpoint is retried, dead-lettered and re-sent once.

The receiver verifies signatures with its own code, written from the specification
(standardwebhooks.com, "Signature scheme"), not with the platform's.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest

from contracts.envelope import message
from eventlog.store import EventStore
from tests.integration.amqp_helpers import publish_again

NEW = {
    "channel": "12345",
    "kind": "complaint",
    "category": "inaction",
    "description": "路灯坏了三个月，报修无人理",
    "complainant": {"name": "王五", "phone": "13600002222"},
}


class Receiver:
    """An integrator's endpoint: keeps every request, answers `status`."""

    def __init__(self, status=200):
        self.status, self.requests = status, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.requests.append((headers, body, outer.status))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/liuhen?k=v"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, stream_id) -> list[tuple]:
        return [r for r in self.requests if json.loads(r[1])["stream_id"] == stream_id]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(status=200):
        made.append(Receiver(status))
        return made[-1]

    yield make
    for r in made:
        r.close()


def verify(secret: str, headers: dict, body: bytes, now: int) -> dict:
    """The specification's verification, as a receiver writes it."""
    msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    assert abs(now - int(stamp)) <= 300, "timestamp outside the 5 minute tolerance"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256)
    expected = "v1," + base64.b64encode(mac.digest()).decode()
    offered = headers["webhook-signature"].split(" ")
    assert any(hmac.compare_digest(expected, s) for s in offered), "bad signature"
    return json.loads(body)


def until(what, timeout=20.0, step=0.05, tick=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        if tick:
            tick()
        time.sleep(step)
    raise AssertionError(f"not within {timeout}s: {what}")


def subscribe(platform, url, event_types) -> dict:
    r = platform.post(
        "/v1/webhooks", "admin", json={"url": url, "event_types": event_types}
    )
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/v1/webhooks/{r.json()['id']}"
    return r.json()


def complaint(platform, accept=True) -> str:
    r = platform.post("/v1/complaints", "intake", json=NEW)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    if accept:
        r = platform.post(f"/v1/complaints/{cid}/accept", "intake", json={})
        assert r.status_code == 200, r.text
    return cid


def stream(database, stream_id):
    with psycopg.connect(database.app, autocommit=True) as conn:
        return EventStore(conn).read_stream(stream_id)


def now_ts(platform) -> int:
    return int(platform.clock.now.timestamp())


def test_a_receiver_verifies_the_signature_of_the_events_it_chose(
    platform, receiver, database, amqp_uri
):
    accepted, everything = receiver(), receiver()
    sub = subscribe(platform, accepted.url, ["ComplaintAccepted"])
    wide = subscribe(platform, everything.url, ["*"])
    assert sub["secret"].startswith("whsec_") and sub["secret"] != wide["secret"]
    shown = platform.get(f"/v1/webhooks/{sub['id']}", "admin").json()
    assert "secret" not in shown and shown["url"] == accepted.url

    cid = complaint(platform)
    headers, body, _ = until(lambda: accepted.of(f"complaint-{cid}"))[0]
    envelope = verify(sub["secret"], headers, body, now_ts(platform))
    assert envelope["type"] == "ComplaintAccepted" and envelope["district"] == "binhai"
    # Exactly the public envelope the relay published over AMQP, byte for byte.
    event = stream(database, f"complaint-{cid}")[1]
    assert body == message(event)[1]
    assert "13600002222" not in body.decode() and "王五" not in body.decode()
    # Only the chosen type: the complaint's ComplaintReceived went to `*` alone.
    until(lambda: len(everything.of(f"complaint-{cid}")) == 2)
    assert len(accepted.of(f"complaint-{cid}")) == 1

    def recorded():
        """The receiver has the body before the sender records the outcome."""
        url = f"/v1/webhooks/{sub['id']}/deliveries"
        items = platform.get(url, "admin").json()["items"]
        found = [d for d in items if d["event_id"] == str(event.event_id)]
        return found if found and found[0]["status"] != "pending" else None

    mine = until(recorded)
    assert [(d["id"], d["status"]) for d in mine] == [
        (headers["webhook-id"], "delivered")
    ]
    history = stream(database, f"delivery-{mine[0]['id']}")
    assert [e.type for e in history] == ["WebhookDeliveryScheduled", "WebhookDelivered"]
    assert {e.correlation_id for e in history} == {f"complaint-{cid}"}
    assert {e.causation_id for e in history} == {str(event.event_id)}

    # The same event published again (a relay or broker redelivery) sends nothing.
    publish_again(amqp_uri, event)
    rotated = platform.call(
        "PATCH", f"/v1/webhooks/{sub['id']}", "admin", json={"rotate_secret": True}
    ).json()
    assert rotated["secret"] != sub["secret"]
    later = complaint(platform)  # published after the redelivery: a barrier
    headers2, body2, _ = until(lambda: accepted.of(f"complaint-{later}"))[0]
    verify(rotated["secret"], headers2, body2, now_ts(platform))
    with pytest.raises(AssertionError, match="bad signature"):
        verify(sub["secret"], headers2, body2, now_ts(platform))
    time.sleep(0.5)  # five sender ticks in which a second delivery could go out
    assert len(accepted.of(f"complaint-{cid}")) == 1
    assert len(stream(database, f"delivery-{mine[0]['id']}")) == 2

    # The webhooks' own events are never delivered (they would feed themselves).
    assert not [
        b
        for _, b, _ in everything.requests
        if json.loads(b)["category"] in ("webhook", "delivery")
    ]
    for s in (sub, wide):
        r = platform.call("DELETE", f"/v1/webhooks/{s['id']}", "admin")
        assert r.status_code == 204, r.text


def test_a_failing_receiver_is_retried_dead_lettered_and_resent_once(
    platform, receiver, database
):
    failing = receiver(status=500)
    sub = subscribe(platform, failing.url, ["ComplaintReceived"])
    cid = complaint(platform, accept=False)
    mine = f"complaint-{cid}"

    def the_delivery():
        items = platform.get(
            f"/v1/webhooks/{sub['id']}/deliveries", "admin", params={"status": "dead"}
        ).json()["items"]
        return [d for d in items if d["event_type"] == "ComplaintReceived"]

    def later():  # past any backoff (base 1 s, doubling, +-20%)
        platform.clock.now += timedelta(seconds=10)

    (dead,) = until(
        lambda: [d for d in the_delivery() if d["status"] == "dead"], tick=later
    )
    assert dead["attempts"] == 3 and dead["last_status"] == 500
    assert {h["webhook-id"] for h, _, _ in failing.of(mine)} == {dead["id"]}
    for headers, body, _ in failing.of(mine):  # each attempt signed at its own time
        verify(sub["secret"], headers, body, int(headers["webhook-timestamp"]))

    failing.status = 200
    later()
    time.sleep(0.5)  # dead: no more attempts, whatever the time
    assert len(failing.of(mine)) == 3

    r = platform.post(f"/v1/webhooks/deliveries/{dead['id']}/resend", "admin")
    assert r.status_code == 202, r.text
    until(lambda: [s for _, _, s in failing.of(mine) if s == 200])
    view = until(
        lambda: (
            v := platform.get(f"/v1/webhooks/deliveries/{dead['id']}", "admin").json()
        )["status"]
        == "delivered"
        and v
    )
    assert view["attempts"] == 4
    later()
    time.sleep(0.5)
    assert [s for _, _, s in failing.of(mine)] == [500, 500, 500, 200]
    assert [step["type"] for step in view["history"]] == [
        "WebhookDeliveryScheduled",
        "WebhookAttemptFailed",
        "WebhookAttemptFailed",
        "WebhookAttemptFailed",
        "WebhookDeadLettered",
        "WebhookResendRequested",
        "WebhookDelivered",
    ]
    assert view["history"][5]["actor"].startswith("admin:")
    events = stream(database, f"delivery-{dead['id']}")
    assert {e.correlation_id for e in events} == {mine}
    # A delivered one is not re-sent.
    again = platform.post(f"/v1/webhooks/deliveries/{dead['id']}/resend", "admin")
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "illegal_transition"
    platform.call("DELETE", f"/v1/webhooks/{sub['id']}", "admin")


def test_another_districts_admin_sees_nothing_of_them(platform):
    sub = subscribe(platform, "https://hooks.example.com/liuhen", ["complaints.*"])
    other = {"district": "jinghai"}
    paths = [
        ("GET", f"/v1/webhooks/{sub['id']}"),
        ("GET", f"/v1/webhooks/{sub['id']}/deliveries"),
        ("PATCH", f"/v1/webhooks/{sub['id']}"),
        ("DELETE", f"/v1/webhooks/{sub['id']}"),
        ("POST", "/v1/webhooks/deliveries/msg_000000000000000000000000/resend"),
        ("GET", "/v1/webhooks/W-9999/deliveries"),
    ]
    for method, path in paths:
        r = platform.call(method, path, "admin", json={"rotate_secret": True}, **other)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["error"]["code"] == "not_found"
    listed = platform.get("/v1/webhooks", "admin", **other).json()["items"]
    assert sub["id"] not in {s["id"] for s in listed}
    for role in ("integrator", "intake"):
        r = platform.get("/v1/webhooks", role)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = platform.call("DELETE", f"/v1/webhooks/{sub['id']}", "admin")
    assert r.status_code == 204
    assert platform.get(f"/v1/webhooks/{sub['id']}", "admin").json()["status"] == (
        "removed"
    )
    r = platform.call("DELETE", f"/v1/webhooks/{sub['id']}", "admin")
    assert r.status_code == 409


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "ftp://hooks.example.com/x", "event_types": ["*"]}, "url"),
        ({"url": "https://u:p@hooks.example.com/", "event_types": ["*"]}, "url"),
        ({"url": "https://h.example.com/" + "a" * 2000, "event_types": ["*"]}, "url"),
        ({"url": "not a url", "event_types": ["*"]}, "url"),
        ({"url": "https://hooks.example.com/", "event_types": []}, "event_types"),
        ({"url": "https://hooks.example.com/", "event_types": "*"}, "event_types"),
        ({"event_types": ["*"]}, "url"),
        ({"url": 7, "event_types": ["*"]}, "url"),
    ],
)
def test_bad_subscriptions_are_refused_with_the_field_named(platform, body, field):
    r = platform.post("/v1/webhooks", "admin", json=body)
    assert r.status_code == 422, r.text
    assert field in r.json()["error"]["details"]


def test_unknown_event_types_are_named(platform):
    body = {
        "url": "https://hooks.example.com/",
        "event_types": ["ComplaintAccepted", "ComplaintTeleported", "WebhookDelivered"],
    }
    r = platform.post("/v1/webhooks", "admin", json=body)
    assert r.status_code == 422, r.text
    (problem,) = r.json()["error"]["details"]["event_types"]
    assert "ComplaintTeleported" in problem and "WebhookDelivered" in problem
    assert "ComplaintAccepted" not in problem.split(";")[0]
    r = platform.post(
        "/v1/webhooks",
        "admin",
        data="{not json",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    sub = subscribe(platform, "https://hooks.example.com/a", ["issues.*"])
    r = platform.call("PATCH", f"/v1/webhooks/{sub['id']}", "admin", json={})
    assert r.status_code == 422 and "nothing to change" in r.json()["error"]["message"]
    r = platform.get(
        f"/v1/webhooks/{sub['id']}/deliveries", "admin", params={"status": "lost"}
    )
    assert r.status_code == 422 and "status" in r.json()["error"]["details"]
    r = platform.get(
        f"/v1/webhooks/{sub['id']}/deliveries", "admin", params={"after": "xyz"}
    )
    assert r.status_code == 422
    platform.call("DELETE", f"/v1/webhooks/{sub['id']}", "admin")
