"""Make psycopg cooperate with eventlet.

psycopg's default wait function (`wait_c`) is C code that blocks in the kernel; eventlet
cannot patch it, so one slow query freezes every greenthread of the process (measured
here: 16 concurrent `pg_sleep(0.05)` requests ran one after another, 16 req/s). Its
`wait_select` calls `select.select`, which eventlet's monkey patching makes green: the
greenthread waiting on PostgreSQL yields to the others (296 req/s on the same test).

`psycopg.waiting.wait` is looked up at every call, so switching it at start-up is
enough; PSYCOPG_WAIT_FUNC=wait_select in the environment has the same effect when set
before psycopg is imported. tests/integration/test_green.py proves the difference.
"""

import psycopg.waiting


def cooperate() -> None:
    psycopg.waiting.wait = psycopg.waiting.wait_select


def cooperating() -> bool:
    return psycopg.waiting.wait is psycopg.waiting.wait_select
