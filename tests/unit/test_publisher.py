"""The confirm bookkeeping of the relay's publisher, without a broker."""

from eventlog.relay import AmqpPublisher


def publisher_with_pending(*tags):
    pub = AmqpPublisher("amqp://localhost/")
    pub._pending = set(tags)
    return pub


def test_a_multiple_ack_confirms_every_tag_up_to_it():
    pub = publisher_with_pending(1, 2, 3, 4)
    pub._on_ack(3, True)
    assert pub._pending == {4}


def test_a_single_ack_confirms_only_its_tag():
    pub = publisher_with_pending(1, 2, 3)
    pub._on_ack(2, False)
    assert pub._pending == {1, 3}


def test_a_nack_fails_the_batch():
    pub = publisher_with_pending(1, 2)
    pub._on_nack(1, False)
    assert pub._nacked
