"""The relay publishes committed events, in order, once confirmed, to liuhen.events."""

import os
import signal
import subprocess
import sys
import time

import pytest
from marshmallow import Schema, fields
from nameko.containers import ServiceContainer

from contracts.envelope import message
from contracts.registry import Registry
from eventlog.consumer import first_delivery
from eventlog.entrypoints import subscribe
from eventlog.model import NewEvent
from eventlog.providers import Database
from eventlog.relay import load_checkpoint
from tests.conftest import new_stream
from tests.integration.amqp_helpers import Subscriber
from tests.integration.relay_helpers import new_district, running_relay

REGISTRY = Registry()


@REGISTRY.register("ComplaintReceived", 1, service="complaints")
class ComplaintReceivedV1(Schema):
    channel = fields.String(required=True)


def encode(event):
    return message(event, REGISTRY)


def received(n):
    return lambda got: len(got) >= n


def test_events_arrive_in_stream_order_with_district_keys_and_public_data_only(
    database, amqp_uri, store
):
    district, other = new_district(), new_district()
    sub = Subscriber(amqp_uri, f"{district}.#")
    try:
        with running_relay(database, amqp_uri, encode=encode):
            stream = new_stream()
            store.append(
                stream,
                district,
                0,
                [
                    NewEvent(
                        "ComplaintReceived",
                        {"channel": "12345", "phone": "13800000000"},
                        "op-1",
                    ),
                    NewEvent("ComplaintAccepted", {}, "op-1"),
                    NewEvent("ComplaintDispatched", {"unit": "u-1"}, "op-1"),
                ],
            )
            store.append(
                new_stream(),
                other,
                0,
                [NewEvent("ComplaintReceived", {"channel": "web"}, "op-2")],
            )
            got = sub.drain(received(3))
            time.sleep(0.3)
            got += sub.drain(received(1), timeout=0.3)  # anything extra would show here
    finally:
        sub.close()
    assert [m.delivery_info["routing_key"] for m in got] == [
        f"{district}.complaint.received",
        f"{district}.complaint.accepted",
        f"{district}.complaint.dispatched",
    ]
    first = got[0]
    assert first.properties["delivery_mode"] == 2
    assert first.properties["content_type"] == "application/json"
    assert first.properties["message_id"] == first.envelope["event_id"]
    assert first.envelope["data"] == {"channel": "12345"}  # the phone is not published
    assert (
        first.envelope["stream_id"] == stream and first.envelope["district"] == district
    )
    assert [m.envelope["stream_version"] for m in got] == [1, 2, 3]
    assert got[2].envelope["data"] is None  # no public schema registered: withheld


class Counter:
    name = "counter"
    db = Database()
    calls: list = []  # every invocation, applied or not

    @subscribe("*.complaint.received")
    def on_received(self, envelope):
        Counter.calls.append(envelope["event_id"])
        with self.db.transaction():
            if first_delivery(self.db, "counter.on_received", envelope["event_id"]):
                self.db.execute("SELECT 1")  # the effect would be here


def wait_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(0.05)
    return condition()


def test_a_nameko_service_consumes_through_subscribe_and_applies_each_event_once(
    database, amqp_uri, nameko_config, store, conn
):
    district = new_district()
    container = ServiceContainer(Counter, nameko_config)
    container.start()
    try:
        with running_relay(database, amqp_uri, encode=encode) as relay:
            recorded = store.append(
                new_stream(),
                district,
                0,
                [NewEvent("ComplaintReceived", {"channel": "letter"}, "op")],
            )[0]
            event_id = str(recorded.event_id)
            assert wait_until(lambda: applied(conn, recorded.event_id) == 1)
            # Redeliver the same event twice, as a broker would after a lost ack.
            publisher = relay.publisher_factory()
            publisher.connect()
            key, body = encode(recorded)
            publisher.publish([(key, body, event_id)] * 2)
            publisher.close()
            assert wait_until(lambda: Counter.calls.count(event_id) == 3)
            assert applied(conn, recorded.event_id) == 1
    finally:
        container.stop()


def applied(conn, event_id) -> int:
    return conn.execute(
        "SELECT count(*) FROM eventlog.processed WHERE consumer = "
        "'counter.on_received' AND event_id = %s",
        (event_id,),
    ).fetchone()[0]


def relay_process(database, amqp_uri, name):
    env = {**database.env(), "LIUHEN_AMQP_URI": amqp_uri}
    return subprocess.Popen(
        [sys.executable, "-m", "liuhen", "relay", "--name", name],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def leader_pid(conn, name) -> int | None:
    row = conn.execute(
        "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE %s",
        (f"liuhen-relay:{name}:%",),
    ).fetchall()
    leaders = [r[0] for r in row]
    locks = conn.execute(
        "SELECT a.application_name FROM pg_locks l"
        " JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE %s",
        (f"liuhen-relay:{name}:%",),
    ).fetchall()
    holders = [r[0] for r in locks]
    assert len(holders) <= 1, f"two relays lead at once: {holders} of {leaders}"
    return int(holders[0].rsplit(":", 1)[1]) if holders else None


def wait_for_leader(conn, name, exclude=None, timeout=20.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = leader_pid(conn, name)
        if pid and pid != exclude:
            return pid
        time.sleep(0.1)
    pytest.fail(f"no relay took the lead within {timeout}s")


def wait_for_checkpoint(conn, name, position, timeout=20.0):
    if not wait_until(
        lambda: load_checkpoint(conn, name).position >= position, timeout
    ):
        pytest.fail(f"relay {name} did not record position {position}")


def test_a_standby_relay_takes_over_when_the_leader_is_killed(
    database, amqp_uri, store, conn
):
    district, name = new_district(), f"relay-{new_district()}"
    sub = Subscriber(amqp_uri, f"{district}.#")
    procs = [relay_process(database, amqp_uri, name) for _ in range(2)]
    try:
        first = wait_for_leader(conn, name)
        stream = new_stream()
        event = store.append(
            stream, district, 0, [NewEvent("ComplaintReceived", {}, "op")]
        )[0]
        assert len(sub.drain(received(1))) == 1
        # Killed between the broker's confirm and the checkpoint, the leader's successor
        # would rightly publish event 1 again (at least once); wait past that window.
        wait_for_checkpoint(conn, name, event.position)
        os.kill(first, signal.SIGKILL)
        store.append(stream, district, 1, [NewEvent("ComplaintAccepted", {}, "op")])
        second = wait_for_leader(conn, name, exclude=first)
        assert second in {p.pid for p in procs} - {first}
        got = sub.drain(received(1))
        assert [m.envelope["stream_version"] for m in got] == [2]
    finally:
        for p in procs:
            p.kill()
            p.wait()
        sub.close()


def test_an_event_whose_payload_fails_to_encode_goes_out_withheld_and_the_relay_goes_on(
    database, amqp_uri, store
):
    district = new_district()
    sub = Subscriber(amqp_uri, f"{district}.#")

    def fragile(event):
        if event.type == "ComplaintBroken":
            raise KeyError("an upcaster's bug")
        return encode(event)

    try:
        with running_relay(database, amqp_uri, encode=fragile):
            store.append(
                new_stream(),
                district,
                0,
                [
                    NewEvent("ComplaintBroken", {"x": "y"}, "op"),
                    NewEvent("ComplaintReceived", {"channel": "web"}, "op"),
                ],
            )
            got = sub.drain(received(2))
    finally:
        sub.close()
    assert [m.envelope["type"] for m in got] == ["ComplaintBroken", "ComplaintReceived"]
    assert got[0].envelope["data"] is None
    assert got[1].envelope["data"] == {"channel": "web"}


class Failing:
    name = "failing"

    @subscribe("*.complaint.received", delivery_limit=2)
    def on_received(self, envelope):
        raise RuntimeError("this handler always fails")


def test_a_message_that_keeps_failing_is_parked_as_a_dead_letter(
    database, amqp_uri, nameko_config, store
):
    district = new_district()
    container = ServiceContainer(Failing, nameko_config)
    container.start()
    dead = None
    try:
        with running_relay(database, amqp_uri, encode=encode):
            recorded = store.append(
                new_stream(),
                district,
                0,
                [NewEvent("ComplaintReceived", {"channel": "web"}, "op")],
            )[0]
            dead = Subscriber(amqp_uri, "unused", queue="liuhen.dead-letters")
            wanted = str(recorded.event_id)
            got = dead.drain(
                lambda r: any(m.envelope["event_id"] == wanted for m in r), timeout=30
            )
            assert wanted in {m.envelope["event_id"] for m in got}
    finally:
        container.stop()
        if dead is not None:
            dead.close(delete=False)
