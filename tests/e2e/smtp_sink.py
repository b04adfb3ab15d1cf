"""A local SMTP server for the tests (aiosmtpd), run as a process of its own so that
its asyncio loop stays clear of the test process's eventlet patching:

    python tests/e2e/smtp_sink.py FOLDER PORT

It prints "ready" once it listens, then writes each message it accepts to
FOLDER/<n>.json ({from, to, subject, body}). Recipients listed in FOLDER/refuse
(one a line) get `451 try again later`, each refusal counted in
FOLDER/refused-<n>.json.
"""

import json
import sys
import threading
import uuid
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder: Path):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        refuse_file = self.folder / "refuse"
        refused = set(refuse_file.read_text().split()) if refuse_file.exists() else ()
        name = uuid.uuid4().hex
        if set(envelope.rcpt_tos) & set(refused):
            record = {"to": envelope.rcpt_tos}
            (self.folder / f"refused-{name}.json").write_text(json.dumps(record))
            return "451 4.3.0 try again later"
        msg = message_from_bytes(envelope.content, policy=policy.default)
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(msg["Subject"]),
            "body": msg.get_content(),
        }
        text = json.dumps(record, ensure_ascii=False)
        (self.folder / f"{name}.tmp").write_text(text, encoding="utf-8")
        (self.folder / f"{name}.tmp").rename(self.folder / f"{name}.json")
        return "250 OK"


def main() -> None:
    folder, port = Path(sys.argv[1]), int(sys.argv[2])
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
