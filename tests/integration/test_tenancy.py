"""Row-level security by district, set per transaction, never per session."""

import pytest

from eventlog.tenancy import all_districts, district_scope
from tests.conftest import APP_USER


@pytest.fixture
def ledger(conn):
    conn.execute("CREATE TEMP TABLE ledger (district text NOT NULL, item text)")
    conn.execute("ALTER TABLE ledger ENABLE ROW LEVEL SECURITY")
    conn.execute("ALTER TABLE ledger FORCE ROW LEVEL SECURITY")  # binds its owner too
    conn.execute(
        "CREATE POLICY by_district ON ledger USING (district = "
        "current_setting('liuhen.district', true)) WITH CHECK (district = "
        "current_setting('liuhen.district', true))"
    )
    conn.execute(
        "CREATE POLICY sweep ON ledger FOR SELECT"
        " USING (current_setting('liuhen.district', true) = '*')"
    )
    for district, item in [("binhai", "b1"), ("binhai", "b2"), ("jinghai", "j1")]:
        with district_scope(conn, district):
            conn.execute("INSERT INTO ledger VALUES (%s, %s)", (district, item))
    return conn


def items(conn):
    return sorted(r[0] for r in conn.execute("SELECT item FROM ledger"))


def test_a_scope_sees_only_its_district(ledger):
    with district_scope(ledger, "binhai"):
        assert items(ledger) == ["b1", "b2"]
    with district_scope(ledger, "jinghai"):
        assert items(ledger) == ["j1"]


def test_outside_a_scope_nothing_is_visible_and_the_setting_does_not_linger(ledger):
    with district_scope(ledger, "binhai"):
        pass
    assert items(ledger) == []


def test_writing_into_another_district_is_refused(ledger):
    import psycopg

    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        district_scope(ledger, "binhai"),
    ):
        ledger.execute("INSERT INTO ledger VALUES ('jinghai', 'smuggled')")


def test_a_district_code_is_checked(ledger):
    with pytest.raises(ValueError, match="district"), district_scope(ledger, "x; --"):
        pass


def test_a_nested_scope_does_not_leak_into_the_rest_of_the_transaction(ledger):
    with ledger.transaction():
        with district_scope(ledger, "binhai"):
            assert items(ledger) == ["b1", "b2"]
        assert items(ledger) == []


def test_a_district_with_a_trailing_newline_is_refused(ledger):
    with pytest.raises(ValueError), district_scope(ledger, "binhai\n"):
        pass


def test_the_cross_district_marker_is_no_district(ledger):
    with pytest.raises(ValueError, match="district"), district_scope(ledger, "*"):
        pass


def test_all_districts_is_asked_for_and_ends_with_its_transaction(ledger):
    with all_districts(ledger):
        assert items(ledger) == ["b1", "b2", "j1"]
    assert items(ledger) == []
    with ledger.transaction():
        with all_districts(ledger):
            assert items(ledger) == ["b1", "b2", "j1"]
        assert items(ledger) == []  # the rest of the outer transaction: nothing


# The tables the platform's background work reads across districts, with a row of
# each of two districts: (table, its key column, the other columns' values).
QUEUES = [
    ("complaints.timers", "complaint_id", "now(), now()"),
    ("complaints.query_codes", "code_hash", "'C-x'"),
    ("issues.timers", "issue_id", "now()"),
    ("notify.outbox", "notification_id", "now()"),
    ("notify.webhook_due", "delivery_id", "now()"),
]


def test_the_cross_district_tables_show_nothing_in_no_district(admin_conn):
    """A transaction that set no district (unset, empty: a forgotten scope, or the
    rest of a transaction after a nested one) sees, ticks and drops none of these
    rows; one that asked for all districts reads them (and leases the senders'
    queues), but drops none; a district sees its own."""
    with admin_conn.transaction(force_rollback=True):
        for table, _, rest in QUEUES:
            for district in ("binhai", "jinghai"):
                admin_conn.execute(  # as the superuser: past row-level security
                    f"INSERT INTO {table} VALUES (%s, %s, {rest})",
                    (f"rls-probe-{district}", district),
                )
        admin_conn.execute("INSERT INTO eventlog.checkpoints (name) VALUES ('probe')")
        admin_conn.execute(f"SET LOCAL ROLE {APP_USER}")

        def seen(setting: str | None) -> dict[str, int]:
            if setting is not None:
                admin_conn.execute(
                    "SELECT set_config('liuhen.district', %s, true)", (setting,)
                )
            counts = {
                table: admin_conn.execute(
                    f"SELECT count(*) FROM {table} WHERE {key} LIKE 'rls-probe-%%'"
                ).fetchone()[0]
                for table, key, _ in QUEUES
            }
            counts["eventlog.checkpoints"] = admin_conn.execute(
                "SELECT count(*) FROM eventlog.checkpoints WHERE name = 'probe'"
            ).fetchone()[0]
            return counts

        def dropped(table: str) -> int:
            return admin_conn.execute(f"DELETE FROM {table}").rowcount

        nothing = dict.fromkeys([t for t, _, _ in QUEUES], 0)
        assert seen(None) == {**nothing, "eventlog.checkpoints": 0}
        assert seen("") == {**nothing, "eventlog.checkpoints": 0}
        assert dropped("notify.outbox") == dropped("notify.webhook_due") == 0
        assert (
            admin_conn.execute(
                "UPDATE complaints.timers SET overdue_marked = true"
            ).rowcount
            == 0
        )
        assert seen("binhai") == {
            **dict.fromkeys(nothing, 1),
            "eventlog.checkpoints": 0,
        }
        assert seen("*") == {**dict.fromkeys(nothing, 2), "eventlog.checkpoints": 1}
        assert dropped("notify.outbox") == dropped("notify.webhook_due") == 0
        assert (
            admin_conn.execute(
                "UPDATE complaints.timers SET overdue_marked = true"
            ).rowcount
            == 0
        )
        assert (
            admin_conn.execute(
                "UPDATE notify.outbox SET due_at = now() WHERE notification_id"
                " LIKE 'rls-probe-%%'"
            ).rowcount
            == 2
        )
