"""AMQP isolation: `liuhen integrator add --district binhai NAME` makes a RabbitMQ user
that receives binhai's events, and that the broker itself stops from binding another
district's routing keys, from publishing, and from reading anything but its queues.

Real RabbitMQ on this run's vhost (tests/conftest.py), the CLI as a subprocess, as an
operator runs it. RabbitMQ users belong to the broker, not to a vhost: integrators get
random names and are deleted afterwards, whatever happened. The tests that only try
things with an integrator share one; those that remove or re-add make their own.
"""

import json
import time
import uuid
from contextlib import contextmanager

import amqp
import psycopg
import pytest

from eventlog.model import NewEvent
from eventlog.relay import EXCHANGE, connect_amqp
from eventlog.store import EventStore
from liuhen.integrators import (
    Integrator,
    IntegratorError,
    ManagementApi,
    client_uri,
)
from services.directory.load import load
from tests.conftest import new_stream
from tests.integration.relay_helpers import running_relay
from tests.integration.test_cli import liuhen, one_line
from tests.integration.test_directory import BINHAI, JINGHAI


def integrator_cli(database, amqp_uri, *args, **env):
    return liuhen(database, "integrator", *args, LIUHEN_AMQP_URI=amqp_uri, **env)


@pytest.fixture(scope="module")
def districts(database):
    with psycopg.connect(database.app, autocommit=True) as conn:
        for path in (BINHAI, JINGHAI):  # idempotent: other tests may load them too
            load(EventStore(conn), path, "test:integrators")


@pytest.fixture(scope="module")
def guest(amqp_uri):
    """As the platform: a channel as guest; the exchange, declared as by the relay."""
    conn = connect_amqp(amqp_uri)
    channel = conn.channel()
    channel.exchange_declare(EXCHANGE, "topic", durable=True, auto_delete=False)
    yield channel
    conn.close()


@contextmanager
def deleted_afterwards(amqp_uri):
    """A new integrator name; its RabbitMQ user, if any, is deleted on leaving."""
    name = f"t-{uuid.uuid4().hex[:10]}"  # `-` is escaped in its permissions
    try:
        yield name
    finally:
        try:
            api = ManagementApi.configured(amqp_uri)
            api.call("DELETE", f"/users/integrator.{name}")
        except IntegratorError as exc:
            if "404" not in str(exc):  # gone already: the test removed it
                raise


@contextmanager
def binhai_integrator(database, amqp_uri):
    """`integrator add --district binhai`: (name, what it printed as a dict)."""
    with deleted_afterwards(amqp_uri) as name:
        done = integrator_cli(database, amqp_uri, "add", "--district", "binhai", name)
        assert done.returncode == 0, done.stderr
        yield name, dict(line.split(": ", 1) for line in done.stdout.splitlines())


@pytest.fixture(scope="module")
def shared(database, amqp_uri, districts, guest):
    with binhai_integrator(database, amqp_uri) as made:
        yield made


@pytest.fixture
def fresh(database, amqp_uri, districts, guest):
    with binhai_integrator(database, amqp_uri) as made:
        yield made


@pytest.fixture
def name(amqp_uri):
    with deleted_afterwards(amqp_uri) as name:
        yield name


def connect(granted) -> amqp.Connection:
    return connect_amqp(granted["uri"])


def own_queue(channel, name: str) -> str:
    queue = f"integrator.{name}.{uuid.uuid4().hex[:6]}"
    channel.queue_declare(queue, durable=False, exclusive=True)
    return queue


def test_add_prints_the_credentials_queue_prefix_and_bindings(shared):
    name, granted = shared
    user = f"integrator.{name}"
    assert granted["user"] == user
    assert len(granted["password"]) >= 32
    assert granted["uri"].startswith(f"amqp://{user}:{granted['password']}@")
    assert granted["queues"].startswith(f"integrator.{name}.<anything>")
    assert granted["bindings"].startswith(f"{EXCHANGE} with binhai.<...> keys only")


def test_the_printed_uri_names_the_host_integrators_reach_and_the_vhost():
    who = Integrator("acme", "binhai")
    assert client_uri("amqp://guest:guest@rabbit:5672/", who, "pw") == (
        "amqp://integrator.acme:pw@rabbit:5672/%2F"
    )
    platform = "amqps://svc:x@10.0.0.7:5671/liuhen"
    assert client_uri(platform, who, "p/w", "mq.example.org:5671") == (
        "amqps://integrator.acme:p%2Fw@mq.example.org:5671/liuhen"
    )


def test_the_integrator_receives_its_districts_events_and_no_others(
    database, amqp_uri, store, shared
):
    name, granted = shared
    conn = connect(granted)
    try:
        channel = conn.channel()
        # Declared as docs/examples/integrator.py declares its queue.
        queue, quorum = f"integrator.{name}.binhai", {"x-queue-type": "quorum"}
        channel.queue_declare(queue, durable=True, auto_delete=False, arguments=quorum)
        channel.queue_bind(queue, EXCHANGE, "binhai.#")
        # The relay publishes the whole log of this run (its own checkpoint): every
        # district's events, these two last.
        with running_relay(database, amqp_uri):
            [ours] = store.append(
                new_stream(), "binhai", 0, [NewEvent("ComplaintAccepted", {}, "t")]
            )
            store.append(
                new_stream(), "jinghai", 0, [NewEvent("ComplaintAccepted", {}, "t")]
            )
            got = drain(channel, queue, until=str(ours.event_id))
        channel.queue_delete(queue)  # its own: it may
    finally:
        conn.close()
    assert got[-1]["event_id"] == str(ours.event_id)
    assert got[-1]["stream_id"] == ours.stream_id
    assert {envelope["district"] for envelope in got} == {"binhai"}


def drain(channel, queue: str, until: str, timeout: float = 30.0) -> list[dict]:
    got, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = channel.basic_get(queue, no_ack=True)
        if msg is None:
            time.sleep(0.05)
            continue
        got.append(json.loads(msg.body))
        assert msg.delivery_info["routing_key"].startswith("binhai.")
        if got[-1]["event_id"] == until:
            return got
    raise AssertionError(f"event {until} did not arrive; got {len(got)} others")


@pytest.mark.parametrize("key", ["jinghai.#", "#", "*.complaint.*", "binhai_x.#"])
def test_the_broker_refuses_to_bind_another_districts_keys(shared, key):
    name, granted = shared
    conn = connect(granted)
    try:
        channel = conn.channel()
        queue = own_queue(channel, name)
        with pytest.raises(amqp.exceptions.AccessRefused, match="topic"):
            channel.queue_bind(queue, EXCHANGE, key)
    finally:
        conn.close()


def test_an_exchange_of_its_own_cannot_bind_every_key_either(shared):
    name, granted = shared
    conn = connect(granted)
    try:
        channel = conn.channel()
        own = f"integrator.{name}.all"
        channel.exchange_declare(own, "fanout", durable=False, auto_delete=True)
        with pytest.raises(amqp.exceptions.AccessRefused, match="topic"):
            channel.exchange_bind(own, EXCHANGE, "#")
    finally:
        conn.close()


# A publish is not answered: with confirms, the refusal comes instead of the ack.
def publish_an_event(channel, name):
    body = amqp.Message("{}")
    channel.basic_publish_confirm(body, EXCHANGE, "binhai.complaint.accepted")


def publish_to_a_queue(channel, name):
    channel.basic_publish_confirm(amqp.Message("{}"), "", f"integrator.{name}.q")


def declare_a_queue_of_another_name(channel, name):
    channel.queue_declare(f"integrator.{name}x.q", exclusive=True)


def read_the_platforms_queue(channel, name, platform_queue):
    channel.basic_get(platform_queue)


def bind_another_exchange(channel, name):
    channel.queue_bind(own_queue(channel, name), "amq.topic", "binhai.#")


@pytest.mark.parametrize(
    "attempt",
    [
        publish_an_event,
        publish_to_a_queue,
        declare_a_queue_of_another_name,
        read_the_platforms_queue,
        bind_another_exchange,
    ],
)
def test_it_may_not_publish_nor_use_anything_but_its_own_queues(shared, guest, attempt):
    name, granted = shared
    platform_queue = f"test.{uuid.uuid4().hex[:8]}"
    guest.queue_declare(platform_queue, exclusive=False, auto_delete=True)
    args = (platform_queue,) if attempt is read_the_platforms_queue else ()
    conn = connect(granted)
    try:
        with pytest.raises(amqp.exceptions.AccessRefused):
            attempt(conn.channel(), name, *args)
    finally:
        conn.close()
        guest.queue_delete(platform_queue)


def test_list_shows_the_integrator_and_its_district(database, amqp_uri, shared):
    name, _ = shared
    done = integrator_cli(database, amqp_uri, "list")
    assert done.returncode == 0, done.stderr
    row = f"{name}\tbinhai\tintegrator.{name}\tintegrator.{name}.*"
    assert row in done.stdout.splitlines()


def test_remove_deletes_the_user_closes_its_connection_and_both_are_recorded(
    database, amqp_uri, store, fresh
):
    name, granted = fresh
    conn = connect(granted)
    conn.channel()
    done = integrator_cli(database, amqp_uri, "remove", name)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"removed integrator {name} of binhai: integrator.{name} deleted"
    )
    with pytest.raises(amqp.exceptions.ConnectionForced):
        conn.drain_events(timeout=10)  # the broker closes it
    with pytest.raises(amqp.exceptions.AccessRefused):
        connect(granted)
    listed = integrator_cli(database, amqp_uri, "list")
    assert name not in listed.stdout
    history = store.read_stream(f"integrator-binhai-{name}")
    assert [e.type for e in history] == ["IntegratorAdded", "IntegratorRemoved"]
    assert {e.actor.split(":")[0] for e in history} == {"cli"}
    added = history[0].data
    assert added["topic_permissions"] == {
        "exchange": EXCHANGE,
        "write": "^$",
        "read": r"^binhai\.",
    }
    assert granted["password"] not in json.dumps([e.data for e in history])


def test_an_unreachable_broker_fails_in_one_line_without_the_password(
    database, amqp_uri, districts, name
):
    api = "http://guest:s3cret@127.0.0.1:1/"
    done = integrator_cli(
        database, amqp_uri, "add", "--district", "binhai", name, LIUHEN_RABBITMQ_API=api
    )
    assert done.returncode == 2
    line = one_line(done)
    assert line.startswith(
        "liuhen: cannot reach RabbitMQ's management API at http://guest:***@127.0.0.1:1/"
    )
    assert "s3cret" not in line


def test_a_broker_that_refuses_the_login_fails_in_one_line(database, amqp_uri, name):
    api = "http://guest:wrong@127.0.0.1:15672/"
    done = integrator_cli(database, amqp_uri, "remove", name, LIUHEN_RABBITMQ_API=api)
    assert done.returncode == 2
    assert one_line(done).startswith("liuhen: RabbitMQ refused GET /users/")
    assert "401" in done.stderr and "wrong" not in done.stderr


def test_a_name_already_taken_is_refused_and_keeps_its_password(
    database, amqp_uri, shared
):
    name, granted = shared
    done = integrator_cli(database, amqp_uri, "add", "--district", "jinghai", name)
    assert done.returncode == 2
    assert one_line(done) == (
        f"liuhen: RabbitMQ already has a user integrator.{name}: remove integrator "
        f"{name} first, or choose another name"
    )
    connect(granted).close()  # the first password still works


@pytest.mark.parametrize(
    "args, error",
    [
        (("add", "--district", "nowhere", "NAME"), "no district 'nowhere' in the"),
        (("add", "--district", "binhai", "Bad.Name"), "'Bad.Name' is not an integ"),
        (("remove", "NAME"), "no integrator NAME on RabbitMQ vhost"),
    ],
)
def test_what_cannot_be_done_is_said_in_one_line(
    database, amqp_uri, districts, name, args, error
):
    args = [name if a == "NAME" else a for a in args]
    done = integrator_cli(database, amqp_uri, *args)
    assert done.returncode == 2
    assert one_line(done).startswith("liuhen: " + error.replace("NAME", name))
