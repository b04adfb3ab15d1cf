"""A plain AMQP subscriber for tests: what an outside integrator would receive."""

import json
import time
import uuid

import amqp

from contracts.envelope import message
from eventlog.relay import EXCHANGE, connect_amqp


def publish_again(uri: str, event) -> None:
    """Publish a recorded event as the relay did: a redelivery, as consumers see it
    when the relay crashed before recording its position, or the broker redelivers."""
    key, body = message(event)
    conn = connect_amqp(uri)
    try:
        channel = conn.channel()
        msg = amqp.Message(
            body,
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=str(event.event_id),
        )
        channel.basic_publish(msg, exchange=EXCHANGE, routing_key=key)
    finally:
        conn.close()


class Subscriber:
    def __init__(self, uri: str, pattern: str = "#", queue: str | None = None):
        self.conn = connect_amqp(uri)
        self.channel = self.conn.channel()
        self.channel.exchange_declare(
            EXCHANGE, "topic", durable=True, auto_delete=False
        )
        self.queue = queue or f"test.{uuid.uuid4().hex[:8]}"
        self.channel.queue_declare(self.queue, durable=True, auto_delete=False)
        self.channel.queue_bind(self.queue, EXCHANGE, pattern)

    def drain(self, until, timeout: float = 20.0) -> list:
        """Take messages until `until(received)` is true or `timeout` passes."""
        received, deadline = [], time.monotonic() + timeout
        while not until(received) and time.monotonic() < deadline:
            msg = self.channel.basic_get(self.queue)
            if msg is None:
                time.sleep(0.02)
                continue
            self.channel.basic_ack(msg.delivery_tag)
            msg.envelope = json.loads(msg.body)
            received.append(msg)
        return received

    def close(self, delete: bool = True) -> None:
        if delete:
            self.channel.queue_delete(self.queue)
        self.conn.close()
