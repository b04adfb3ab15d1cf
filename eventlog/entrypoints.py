"""`@subscribe("binhai.complaint.*")`: a nameko entrypoint on `liuhen.events`.

The relay publishes each event once, to `liuhen.events`, with the routing key
`<district>.<category>.<action>`. This entrypoint is nameko's own EventHandler bound to
that exchange with a topic pattern, so services consume exactly what integrators see and
nothing is published twice. The queue is durable and quorum-type (replicated in a
cluster); instances of one service compete on it. A failed handler requeues the message
(nameko's default would acknowledge and drop it); handlers are idempotent
(`eventlog.consumer.first_delivery`), so redelivery is harmless. A message that keeps
failing is not retried forever: after `delivery_limit` deliveries the quorum queue moves
it to the `liuhen.dead-letters` queue (declared by the relay) for an operator.

Instances compete on the queue and each runs several workers, so two events of one
stream can be handled concurrently and out of order: a handler whose effect depends on
order checks the event's `stream_version` against what it has applied.
"""

from kombu import Exchange, Queue
from nameko.events import EventHandler
from nameko.messaging import Consumer

from .relay import DEAD_LETTERS, EXCHANGE

LIUHEN_EXCHANGE = Exchange(EXCHANGE, type="topic", durable=True, auto_delete=False)


class Subscription(EventHandler):
    def __init__(self, pattern: str, delivery_limit: int = 10, **kwargs):
        kwargs.setdefault("requeue_on_error", True)
        self.delivery_limit = delivery_limit
        super().__init__("liuhen", pattern, **kwargs)

    def setup(self):
        service, pattern = self.container.service_name, self.event_type
        self.queue = Queue(
            f"liuhen.{service}.{self.method_name}",
            exchange=LIUHEN_EXCHANGE,
            routing_key=pattern,
            durable=True,
            queue_arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": self.delivery_limit,
                "x-dead-letter-exchange": DEAD_LETTERS,
            },
        )
        Consumer.setup(self)


subscribe = Subscription.decorator
