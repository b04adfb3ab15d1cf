"""The Waker: one NOTIFY for a burst of pokes, and one after a poke during its pause."""

import psycopg

from eventlog.store import NOTIFY_CHANNEL
from eventlog.waker import Waker


def notifications(conn, seconds):
    return list(conn.notifies(timeout=seconds))


def test_a_burst_of_pokes_makes_few_notifies_and_the_last_is_never_dropped(database):
    with psycopg.connect(database.app, autocommit=True) as listener:
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        waker = Waker(database.app, interval=0.2)
        try:
            for _ in range(50):
                waker.poke()
            first = notifications(listener, 0.1)
            waker.poke()  # during the pause: must still produce a NOTIFY after it
            later = notifications(listener, 1.0)
        finally:
            waker.close()
    assert len(first) == 1  # fifty pokes, one NOTIFY
    assert len(later) == 1  # the trailing one
    assert waker.sent == 2
