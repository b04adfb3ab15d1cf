"""Stopping RabbitMQ while events are appended loses nothing, and nothing below the
relay's confirmed checkpoint is published twice.

This stops the machine's real broker (`rabbitmqctl stop_app`) for a few seconds. The
subscriber's queue is durable and the messages persistent, so what the broker confirmed
before the stop is still there after it.
"""

import subprocess
import threading
import time
from collections import Counter

import eventlet
import psycopg

from eventlog.model import Checkpoint, NewEvent
from eventlog.relay import load_checkpoint
from eventlog.store import EventStore
from tests.conftest import new_stream
from tests.integration.amqp_helpers import Subscriber
from tests.integration.relay_helpers import new_district, running_relay

EVENTS, INTERVAL = 150, 0.03


def rabbitmqctl(*args):
    subprocess.run(
        ["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120
    )


def test_a_broker_restart_loses_no_event_and_repeats_none_below_the_checkpoint(
    database, amqp_uri, conn
):
    district, name = new_district(), f"relay-{new_district()}"
    sub = Subscriber(amqp_uri, f"{district}.#")
    queue = sub.queue
    appended = []

    def append_steadily():
        with psycopg.connect(database.app, autocommit=True) as c:
            store = EventStore(c)
            for i in range(EVENTS):
                stream = new_stream()
                appended.append(
                    store.append(
                        stream,
                        district,
                        0,
                        [NewEvent("ComplaintReceived", {"i": i}, "op")],
                    )[0]
                )
                time.sleep(INTERVAL)

    with running_relay(database, amqp_uri, name=name):
        writer = threading.Thread(target=append_steadily)
        writer.start()
        while len(appended) < EVENTS // 3:
            eventlet.sleep(0.05)
        rabbitmqctl("stop_app")
        try:
            # The relay cannot advance while the broker is down.
            confirmed = load_checkpoint(conn, name)
            eventlet.sleep(2.0)
            assert load_checkpoint(conn, name) == confirmed
        finally:
            rabbitmqctl("start_app")
            rabbitmqctl("await_startup")
        writer.join(timeout=60)
        assert len(appended) == EVENTS
        sub = Subscriber(amqp_uri, f"{district}.#", queue=queue)  # the old one died
        wanted = {str(e.event_id) for e in appended}
        got = sub.drain(
            lambda r: {m.envelope["event_id"] for m in r} >= wanted, timeout=60
        )
        time.sleep(0.5)
        got += sub.drain(
            lambda r: False, timeout=0.5
        )  # late duplicates would show here
    sub.close()

    ids = Counter(m.envelope["event_id"] for m in got)
    by_id = {str(e.event_id): e for e in appended}
    missing = set(by_id) - set(ids)
    assert not missing, f"{len(missing)} events lost"
    assert set(ids) <= set(by_id)  # none invented
    repeated = [by_id[i] for i, n in ids.items() if n > 1]
    below = [e for e in repeated if Checkpoint(e.tx_id, e.position) <= confirmed]
    assert below == [], "events below the confirmed checkpoint were published twice"
    print(
        f"outage: {EVENTS} appended, {len(got)} delivered, {len(repeated)} repeated "
        f"from the unconfirmed batch, confirmed checkpoint at {confirmed.position}"
    )
