"""Wake the relay without making appenders wait for it.

A NOTIFY inside the appending transaction takes a database-wide lock at commit that
serialises every notifying commit behind one another's disk flush, and a NOTIFY after
the commit on the appender's connection costs the appender a second round trip
(measured: about 20% of append throughput at 8 writers). So each process has one Waker:
appenders `poke()` it after their commit (an in-memory flag), and its own thread sends
NOTIFY on its own connection, then pauses `interval` seconds: however many pokes arrive
meanwhile, they make one NOTIFY right after the pause (trailing edge, never dropped).
Under load the relay is busy reading batches and needs no wake-up; when it has gone
idle, the first event reaches it at most `interval` later than an immediate NOTIFY.

A lost wake-up (the waker's connection down, the process killed between commit and
NOTIFY) costs latency only: the relay also polls.
"""

import os
import threading
import time

import psycopg
import structlog

from .store import NOTIFY_CHANNEL

log = structlog.get_logger("eventlog.waker")


class Waker:
    def __init__(self, conninfo: str, interval: float = 0.01):
        self.conninfo, self.interval = conninfo, interval
        self._poked = threading.Event()
        self._closed = False
        self._thread = None
        self._pid = None
        self._starting = threading.Lock()
        self.sent = 0

    def poke(self) -> None:
        if self._pid != os.getpid():  # first use, or first use after a fork
            self._start()
        self._poked.set()

    def _start(self) -> None:
        with self._starting:  # two threads' first pokes start one waker thread
            if self._pid == os.getpid():
                return
            self._poked = threading.Event()
            self._thread = threading.Thread(
                target=self._run, name="liuhen-waker", daemon=True
            )
            self._thread.start()
            self._pid = os.getpid()

    def close(self) -> None:
        self._closed = True
        self._poked.set()

    def _run(self) -> None:
        conn = None
        while True:
            self._poked.wait()
            if self._closed:
                break
            self._poked.clear()
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(
                        self.conninfo, autocommit=True, application_name="liuhen-waker"
                    )
                conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
                self.sent += 1
            except psycopg.Error as exc:
                log.warning("could not wake the relay; it will poll", error=str(exc))
                conn = None
            time.sleep(self.interval)
        if conn is not None:
            conn.close()
