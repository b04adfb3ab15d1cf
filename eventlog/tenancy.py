"""Districts sealed from each other in read models, by PostgreSQL row-level security.

Every read-model table carries its district, has row-level security enabled and forced,
and a policy comparing the row's district with `current_setting('liuhen.district',
true)`. The setting is made with set_config(..., is_local => true) inside the
transaction that reads or writes, never for the session: a pooled connection handed to
the next worker must not carry the previous district. Outside a scope the setting is
empty and no row matches, so forgetting the scope shows nothing rather than everything.

A few operational tables (the complaint and issue timers, notify's outbox and webhook
queue, the query codes, the relay's checkpoints) are also read or leased across
districts by the platform's own background work. That access is never the default:
the code that needs it asks for it with `all_districts`, which sets the marker
ALL_DISTRICTS for its own transaction, and only policies written for those tables
(their migrations; tests/integration/test_rls_catalog.py holds the list) accept the
marker. No district code can be the marker: DISTRICT admits no '*'.
"""

from contextlib import contextmanager

from .model import DISTRICT

POLICY_SQL = "district = current_setting('liuhen.district', true)"
ALL_DISTRICTS = "*"
ALL_DISTRICTS_SQL = "current_setting('liuhen.district', true) = '*'"
SET = "SELECT set_config('liuhen.district', %s, true)"


@contextmanager
def district_scope(conn, district: str):
    """A transaction in which the connection sees and writes only `district`'s rows."""
    if not isinstance(district, str) or not DISTRICT.fullmatch(district):
        raise ValueError(f"{district!r} is not a district code")
    with _scoped(conn, district):
        yield conn


@contextmanager
def all_districts(conn):
    """A transaction of the platform's own cross-district work (sweeps, senders'
    leases, the anonymous query-code lookup, the relay's checkpoint): on the tables
    whose policies accept the marker, it sees every district's rows; on every other
    read model, nothing (a row's district is its event's, a district code, never '*').
    Keep it to the statements that need it: act on one district's rows inside that
    district's scope."""
    with _scoped(conn, ALL_DISTRICTS):
        yield conn


@contextmanager
def _scoped(conn, value: str):
    with conn.transaction():
        conn.execute(SET, (value,))
        yield conn
        # Nested in an outer transaction this was a savepoint, and a local setting
        # outlives its release: clear it, so the rest of that transaction sees nothing.
        conn.execute(SET, ("",))
