"""The `liuhen` command and `liuhen up`, as an operator runs them."""

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def liuhen(database, *args, **env):
    return subprocess.run(
        [sys.executable, "-m", "liuhen", *args],
        env={**database.env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_is_idempotent(database):
    done = liuhen(database, "migrate")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "schema up to date"


def test_a_usage_error_exits_2_with_argparses_line(database):
    done = liuhen(database, "verify", "--district", "a", "--stream", "b")
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_until(proc, text, timeout=60.0) -> str:
    seen, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen += line
        if text in line:
            return seen
    pytest.fail(f"{text!r} not printed; output so far:\n{seen}")


def test_up_runs_the_platform_prints_the_url_and_stops_cleanly_on_ctrl_c(
    database, amqp_uri
):
    http = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "liuhen", "up"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**database.env(), "LIUHEN_AMQP_URI": amqp_uri, "LIUHEN_HTTP": http},
    )
    try:
        read_until(proc, f"http://{http}/v1/health")
        body, deadline = None, time.monotonic() + 60
        while body is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://{http}/v1/health", timeout=5) as r:
                    body = json.loads(r.read())
            except OSError:
                time.sleep(0.3)
        assert body is not None and body["status"] == "ok"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert "stopped." in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
