"""The relay: publishes committed events, in commit-safe order, to RabbitMQ.

The log is the outbox. The relay reads past its checkpoint (`EventStore.read_after`),
publishes a batch to the `liuhen.events` topic exchange as persistent messages, waits
for the broker to confirm the whole batch, and only then moves its checkpoint. A crash
or a broker outage at any point repeats at most the unconfirmed batch (at least once,
never lost); consumers are idempotent.

Several relays may run: each takes a PostgreSQL advisory lock on its own connection
and only the holder publishes; the others stand by and retry. The lock dies with the
leader's connection, so a killed leader is replaced within one standby interval.
"""

import os
import threading
import time
from urllib.parse import unquote, urlparse

import amqp
import psycopg
import structlog

from contracts.envelope import message
from contracts.registry import Registry

from .model import Checkpoint, RecordedEvent
from .store import NOTIFY_CHANNEL, EventStore
from .tenancy import all_districts

EXCHANGE = "liuhen.events"
DEAD_LETTERS = "liuhen.dead-letters"  # where subscriptions park what keeps failing
RELAY_LOCK = 0x11A0_0002
log = structlog.get_logger("eventlog.relay")
WITHHELD = Registry()  # knows no type: every payload withheld
# The client side of the same: a partitioned leader must not hang in a query for hours.
KEEPALIVE = dict(
    keepalives=1,
    keepalives_idle=10,
    keepalives_interval=5,
    keepalives_count=3,
    tcp_user_timeout=30000,
)


class PublishFailed(Exception):
    pass


def connect_amqp(uri: str, timeout: float = 10.0) -> amqp.Connection:
    """A connected py-amqp connection from an `amqp://user:pass@host:port/vhost` URI.

    Socket timeouts on both directions: a broker that stops reading (a memory alarm
    blocks publishers) must raise, not hang the relay while it holds the lead.
    """
    url = urlparse(uri)
    vhost = unquote(url.path[1:]) if len(url.path) > 1 else "/"
    conn = amqp.Connection(
        host=f"{url.hostname or 'localhost'}:{url.port or 5672}",
        userid=unquote(url.username or "guest"),
        password=unquote(url.password or "guest"),
        virtual_host=vhost,
        connect_timeout=timeout,
        read_timeout=timeout,
        write_timeout=timeout,
    )
    conn.connect()
    return conn


class AmqpPublisher:
    """One py-amqp channel in confirm mode; a batch is confirmed as a whole.

    Waiting for a confirm per message costs a round trip each (about 1,100 messages/s
    here); publishing the batch and then draining the acks costs one wait per batch.
    """

    def __init__(self, uri: str, exchange: str = EXCHANGE, timeout: float = 10.0):
        self.uri, self.exchange, self.timeout = uri, exchange, timeout
        self.conn = self.channel = None
        self._pending: set[int] = set()
        self._nacked = False
        self._tag = 0

    def connect(self) -> None:
        self.conn = connect_amqp(self.uri, timeout=self.timeout)
        self.channel = self.conn.channel()
        self.channel.exchange_declare(
            self.exchange, "topic", durable=True, auto_delete=False
        )
        declare_dead_letters(self.channel)
        self.channel.confirm_select()
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self._tag = 0

    def _on_ack(self, tag, multiple):
        self._pending -= {t for t in self._pending if t <= tag} if multiple else {tag}

    def _on_nack(self, tag, multiple):
        self._nacked = True

    def publish(self, items: list[tuple[str, bytes, str]]) -> None:
        """Publish (routing key, body, message id) items; return once all confirmed."""
        self._nacked = False
        for key, body, message_id in items:
            msg = amqp.Message(
                body,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=message_id,
            )
            self.channel.basic_publish(msg, exchange=self.exchange, routing_key=key)
            self._tag += 1
            self._pending.add(self._tag)
        deadline = time.monotonic() + self.timeout
        while self._pending and not self._nacked:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishFailed(
                    f"{len(self._pending)} messages unconfirmed after {self.timeout}s"
                )
            self.conn.drain_events(timeout=remaining)
        if self._nacked:
            raise PublishFailed("the broker refused (nack) a message of the batch")

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # closing a dead connection: nothing left to release
                pass
        self.conn = self.channel = None
        self._pending.clear()


def declare_dead_letters(channel) -> None:
    """A fanout exchange and a durable queue that keeps what subscriptions gave up on,
    for an operator to inspect and re-publish."""
    channel.exchange_declare(DEAD_LETTERS, "fanout", durable=True, auto_delete=False)
    channel.queue_declare(DEAD_LETTERS, durable=True, auto_delete=False)
    channel.queue_bind(DEAD_LETTERS, DEAD_LETTERS, "")


def load_checkpoint(conn, name: str) -> Checkpoint:
    """The relay's place in the whole log, every district's: the checkpoints'
    policy shows and lets change them only in a transaction that asked for all
    districts (eventlog/migrations/006), never in one acting for a district or none.
    """
    with all_districts(conn):
        conn.execute(
            "INSERT INTO eventlog.checkpoints (name) VALUES (%s)"
            " ON CONFLICT DO NOTHING",
            (name,),
        )
        row = conn.execute(
            "SELECT tx_id::text::bigint, position FROM eventlog.checkpoints"
            " WHERE name = %s",
            (name,),
        ).fetchone()
    return Checkpoint(*row)


def save_checkpoint(conn, name: str, checkpoint: Checkpoint) -> None:
    with all_districts(conn):
        conn.execute(
            "UPDATE eventlog.checkpoints SET tx_id = %s::text::xid8, position = %s,"
            " updated_at = now() WHERE name = %s",
            (str(checkpoint.tx_id), checkpoint.position, name),
        )


def wait_for_notify(conn, timeout: float) -> None:
    """Return when an append was notified (or had been, during other queries), or after
    `timeout`: the polling fallback for a lost wake-up."""
    if list(conn.notifies(timeout=0)):
        return
    for _ in conn.notifies(timeout=timeout, stop_after=1):
        pass


class Relay:
    def __init__(
        self,
        conninfo: str,
        amqp_uri: str,
        *,
        name: str = "relay",
        batch_size: int = 500,
        poll_interval: float = 0.5,
        standby_interval: float = 1.0,
        retry_interval: float = 1.0,
        publisher_factory=None,
        encode=message,
    ):
        self.conninfo, self.name = conninfo, name
        self.batch_size, self.poll_interval = batch_size, poll_interval
        self.standby_interval, self.retry_interval = standby_interval, retry_interval
        self.publisher_factory = publisher_factory or (lambda: AmqpPublisher(amqp_uri))
        self.encode = encode
        self.is_leader = False
        self.published = 0

    def run(self, stop: threading.Event) -> None:
        """Lead or stand by until `stop` is set, through database and broker outages."""
        log.info("relay starting", relay=self.name)
        while not stop.is_set():
            try:
                self._lead(stop)
            except (
                psycopg.Error,
                amqp.exceptions.AMQPError,
                OSError,
                PublishFailed,
            ) as exc:
                log.warning(
                    "relay interrupted; retrying",
                    relay=self.name,
                    error=f"{type(exc).__name__}: {exc}",
                )
                stop.wait(self.retry_interval)
            finally:
                self.is_leader = False
        log.info("relay stopped", relay=self.name)

    def _lead(self, stop: threading.Event) -> None:
        app_name = f"liuhen-relay:{self.name}:{os.getpid()}"
        with psycopg.connect(
            self.conninfo, autocommit=True, application_name=app_name, **KEEPALIVE
        ) as conn:
            got = conn.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (RELAY_LOCK, self.name)
            ).fetchone()[0]
            if not got:
                stop.wait(self.standby_interval)
                return
            self.is_leader = True
            # The lock lives as long as this session. If the leader's host dies without
            # closing it, the server would hold the lock until TCP gives up (two hours
            # by default): short keepalives free it within about half a minute.
            conn.execute("SET tcp_keepalives_idle = 10")
            conn.execute("SET tcp_keepalives_interval = 5")
            conn.execute("SET tcp_keepalives_count = 3")
            # Keepalives only probe an idle socket; while NOTIFYs to a dead leader sit
            # unacknowledged, only a user timeout bounds the retransmissions.
            conn.execute("SET tcp_user_timeout = 30000")
            # This connection writes only the checkpoint. Not waiting for the disk flush
            # is safe: a checkpoint lost in a server crash only makes the relay publish
            # that batch again, which at-least-once delivery allows; waiting cost a
            # flush per batch.
            conn.execute("SET synchronous_commit = off")
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            store, checkpoint = EventStore(conn), load_checkpoint(conn, self.name)
            log.info("relay leading", relay=self.name, position=checkpoint.position)
            publisher = self.publisher_factory()
            try:
                publisher.connect()  # in the try: a failed connect is closed too
                while not stop.is_set():
                    events = store.read_after(checkpoint, limit=self.batch_size)
                    if not events:
                        wait_for_notify(conn, self.poll_interval)
                        continue
                    publisher.publish([self._item(e) for e in events])
                    checkpoint = Checkpoint(events[-1].tx_id, events[-1].position)
                    save_checkpoint(conn, self.name, checkpoint)
                    self.published += len(events)
            finally:
                publisher.close()

    def _item(self, event: RecordedEvent) -> tuple[str, bytes, str]:
        """An event whose payload cannot be encoded (an upcaster's bug, say) goes out
        with its data withheld, as an unregistered type would: skipping it would leave
        a gap, and stopping would hold back every event after it."""
        try:
            key, body = self.encode(event)
        except Exception:
            log.exception(
                "event published without its data: its payload failed to encode",
                event_id=str(event.event_id),
                position=event.position,
                type=event.type,
            )
            key, body = message(event, WITHHELD)
        return key, body, str(event.event_id)
