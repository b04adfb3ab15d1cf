"""Real servers on localhost for the channels notify sends through: an SMTP server
(aiosmtpd, in a process of its own: tests/e2e/smtp_sink.py) and an HTTP SMS gateway
(http.server in a thread). Tests read what arrived; nothing is mocked."""

import json
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SINK = Path(__file__).with_name("smtp_sink.py")


class Mailbox:
    def __init__(self, folder: Path, port: int):
        self.folder, self.port = folder, port

    def messages(self) -> list[dict]:
        return [
            json.loads(p.read_text("utf-8")) for p in self.folder.glob("[!r]*.json")
        ]

    def to(self, address: str) -> list[dict]:
        return [m for m in self.messages() if address in m["to"]]

    def refuse(self, *addresses: str) -> None:
        """`451 try again later` for these recipients, until `accept_all`."""
        (self.folder / "refuse").write_text("\n".join(addresses))

    def accept_all(self) -> None:
        (self.folder / "refuse").unlink(missing_ok=True)

    def refusals(self, address: str) -> int:
        found = self.folder.glob("refused-*.json")
        return sum(address in json.loads(p.read_text())["to"] for p in found)


@contextmanager
def smtp_server(folder: Path, port: int):
    proc = subprocess.Popen(
        [sys.executable, str(SINK), str(folder), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the local SMTP server did not start")
        yield Mailbox(folder, port)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class SmsGateway:
    """POSTs of {to, text} as received, with the path (the district's URL)."""

    def __init__(self):
        self.received: list[dict] = []
        self.failing: set[str] = set()
        self.stalls: dict[str, float] = {}  # phone -> seconds to sit on its POST
        self.holding: list[str] = []  # phones whose POST is being sat on now
        self.url = ""

    def to(self, phone: str) -> list[dict]:
        return [m for m in self.received if m["to"] == phone]

    def stall(self, phone: str, seconds: float) -> None:
        """Answer POSTs to `phone` only after `seconds`: a slow gateway."""
        self.stalls[phone] = seconds


@contextmanager
def sms_server():
    gateway = SmsGateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length).decode("utf-8"))
            if body.get("to") in gateway.stalls:
                gateway.holding.append(body["to"])
                time.sleep(gateway.stalls[body["to"]])
                gateway.holding.remove(body["to"])
            status = 503 if body.get("to") in gateway.failing else 200
            if status == 200:
                gateway.received.append({**body, "path": self.path})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}' if status == 200 else b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()


def wait_for(check, timeout: float = 20.0, every: float = 0.1):
    """`check()`'s first truthy value within `timeout` seconds, else its last."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(every)
