"""Row-level security by district, set per transaction, never per session."""

import pytest

from eventlog.tenancy import district_scope


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
