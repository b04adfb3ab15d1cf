"""psycopg cooperates with eventlet: slow queries in one nameko service overlap.

10 concurrent RPC calls each run `pg_sleep(0.3)`. With psycopg's green-friendly wait
function they overlap (well under 3 s). The control runs the same calls with psycopg's
default C wait function, which eventlet cannot patch: they queue behind each other.
"""

import time

import psycopg.waiting
import pytest
from nameko.containers import ServiceContainer
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy

from eventlog import green
from eventlog.providers import Database

CALLS, NAP = 10, 0.3


class Sleeper:
    name = "sleeper"
    db = Database()

    @rpc
    def nap(self, seconds):
        self.db.execute("SELECT pg_sleep(%s)", (seconds,))
        return True


def ten_naps(config) -> float:
    container = ServiceContainer(Sleeper, config)
    container.start()
    try:
        with ClusterRpcProxy(config, timeout=30) as proxy:
            proxy.sleeper.nap(0)  # warm: pool filled, queues declared
            began = time.monotonic()
            replies = [proxy.sleeper.nap.call_async(NAP) for _ in range(CALLS)]
            assert all(r.result() for r in replies)
            return time.monotonic() - began
    finally:
        container.stop()


def test_ten_slow_queries_overlap_in_one_service(nameko_config):
    assert green.cooperating()
    elapsed = ten_naps(nameko_config)
    assert elapsed < CALLS * NAP / 3, f"{elapsed:.2f}s: queries did not overlap"


def test_control_with_the_default_c_wait_function_the_queries_queue(
    nameko_config, monkeypatch
):
    if not hasattr(psycopg.waiting, "wait_c"):
        pytest.fail(
            "psycopg's C extension is missing: psycopg[binary] should provide it"
        )
    monkeypatch.setattr(green, "cooperate", lambda: None)
    monkeypatch.setattr(psycopg.waiting, "wait", psycopg.waiting.wait_c)
    elapsed = ten_naps(nameko_config)
    assert elapsed >= CALLS * NAP * 0.9, f"{elapsed:.2f}s: the control did not block"
