"""Districts sealed from each other in read models, by PostgreSQL row-level security.

Every read-model table carries its district, has row-level security enabled and forced,
and a policy comparing the row's district with `current_setting('liuhen.district',
true)`. The setting is made with set_config(..., is_local => true) inside the
transaction that reads or writes, never for the session: a pooled connection handed to
the next worker must not carry the previous district. Outside a scope the setting is
empty and no row matches, so forgetting the scope shows nothing rather than everything.
"""

from contextlib import contextmanager

from .model import DISTRICT

POLICY_SQL = "district = current_setting('liuhen.district', true)"


@contextmanager
def district_scope(conn, district: str):
    """A transaction in which the connection sees and writes only `district`'s rows."""
    if not isinstance(district, str) or not DISTRICT.fullmatch(district):
        raise ValueError(f"{district!r} is not a district code")
    with conn.transaction():
        conn.execute("SELECT set_config('liuhen.district', %s, true)", (district,))
        yield conn
        # Nested in an outer transaction this was a savepoint, and a local setting
        # outlives its release: clear it, so the rest of that transaction sees nothing.
        conn.execute("SELECT set_config('liuhen.district', '', true)")
