import threading
import uuid
from contextlib import contextmanager

from eventlog.relay import Relay


def new_district() -> str:
    """A district of its own per test: its routing keys are `<district>.#`."""
    return "t" + uuid.uuid4().hex[:10]


@contextmanager
def running_relay(database, amqp_uri, **options):
    options.setdefault("name", f"relay-{uuid.uuid4().hex[:8]}")
    options.setdefault("poll_interval", 0.2)
    options.setdefault("retry_interval", 0.3)
    relay = Relay(database.app, amqp_uri, **options)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield relay
    finally:
        stop.set()
        thread.join(timeout=15)
