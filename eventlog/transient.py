"""RPC whose messages the broker keeps in memory only (AMQP delivery mode 1).

nameko 2.14 publishes every RPC request and reply as persistent (delivery mode 2),
and its queues are durable: RabbitMQ writes such a message to disk. The complaints
service's calls carry a complainant's identity in plain text (the gateway's
`receive`, the identity read, notify's `contact`), which must not land in the
broker's message store. Both ends are made transient:

- requests: `RpcProxy("complaints", **TRANSIENT)`; nameko hands a proxy's options
  to its Publisher (nameko/rpc.py MethodProxy, nameko/amqp/publish.py), so this is
  per proxy;
- replies: nameko's RpcConsumer publishes them through a Responder of its own with
  no options; `rpc` here is nameko's entrypoint with a consumer whose Responder
  publishes transient. Every method of a service must use the same `rpc` (one
  consumer per queue: a method the other consumer does not know is answered
  MethodNotFound).

A lost RPC message costs nothing that persistence would save: the caller waits for
its reply in memory and times out if the broker restarts. Transient messages may
still be paged to disk by RabbitMQ under memory pressure (docs/security-notes/pii.md).
"""

from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    NON_PERSISTENT,
    SERIALIZER_CONFIG_KEY,
)
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange

TRANSIENT = {"delivery_mode": NON_PERSISTENT}


class TransientPublisher(Publisher):
    delivery_mode = NON_PERSISTENT


class TransientResponder(Responder):
    publisher_cls = TransientPublisher


class TransientRpcConsumer(RpcConsumer):
    def handle_result(self, message, result, exc_info):
        # nameko 2.14's RpcConsumer.handle_result, with the transient Responder.
        config = self.container.config
        responder = TransientResponder(
            config[AMQP_URI_CONFIG_KEY],
            get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER),
            message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class TransientRpc(Rpc):
    rpc_consumer = TransientRpcConsumer()


rpc = TransientRpc.decorator
