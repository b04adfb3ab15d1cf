"""`@subscribe("binhai.complaint.*")`: a nameko entrypoint on `liuhen.events`.

The relay publishes each event once, to `liuhen.events`, with the routing key
`<district>.<category>.<action>`. This entrypoint is nameko's own EventHandler bound to
that exchange with a topic pattern, so services consume exactly what integrators see and
nothing is published twice. The queue is durable and quorum-type (replicated in a
cluster); instances of one service compete on it. A failed handler requeues the message
(nameko's default would acknowledge and drop it); handlers are idempotent
(`eventlog.consumer.first_delivery`), so redelivery is harmless.
"""

from kombu import Exchange, Queue
from nameko.events import EventHandler
from nameko.messaging import Consumer

from .relay import EXCHANGE

LIUHEN_EXCHANGE = Exchange(EXCHANGE, type="topic", durable=True, auto_delete=False)


class Subscription(EventHandler):
    def __init__(self, pattern: str, **kwargs):
        kwargs.setdefault("requeue_on_error", True)
        super().__init__("liuhen", pattern, **kwargs)

    def setup(self):
        service, pattern = self.container.service_name, self.event_type
        self.queue = Queue(
            f"liuhen.{service}.{self.method_name}",
            exchange=LIUHEN_EXCHANGE,
            routing_key=pattern,
            durable=True,
            queue_arguments={"x-queue-type": "quorum"},
        )
        Consumer.setup(self)


subscribe = Subscription.decorator
