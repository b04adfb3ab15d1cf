"""`make up` on a machine where RabbitMQ is not running: bringup.sh starts it.

This stops the machine's whole RabbitMQ node (not only its application), then runs the
bring-up script that `make up` and `make test` run, and checks that the broker answers
again. PostgreSQL's start path (pg_ctlcluster) is not exercised here: stopping it would
take this test run's own database away.
"""

import socket
import subprocess
import time
from pathlib import Path

BRINGUP = Path(__file__).resolve().parents[2] / "deploy" / "bringup.sh"


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_bringup_starts_a_stopped_rabbitmq_node_and_finds_a_running_postgresql():
    subprocess.run(
        ["rabbitmqctl", "-q", "stop"], check=True, capture_output=True, timeout=120
    )
    deadline = time.monotonic() + 30
    while answers(5672) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not answers(5672), "RabbitMQ did not stop"
    done = subprocess.run([str(BRINGUP)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "bringup: starting RabbitMQ" in done.stdout
    assert "bringup: RabbitMQ answers on 127.0.0.1:5672" in done.stdout
    assert "bringup: PostgreSQL answers on 127.0.0.1:5432" in done.stdout
    assert answers(5672)
