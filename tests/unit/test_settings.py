"""Settings: which database, as which role, and no password in any message."""

import pytest
from psycopg.conninfo import conninfo_to_dict

from eventlog import settings
from eventlog.settings import Settings, mask_password
from liuhen.launcher import child_env


def cfg(url: str, app_password: str | None = None) -> Settings:
    return Settings(url, "liuhen_app", app_password, "amqp://", "127.0.0.1:8000")


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (
            "postgresql://root:s3cret@db.example/liuhen",
            "postgresql://root:***@db.example/liuhen",
        ),
        ("postgres://u:p%40ss@h1:1,h2:2/db", "postgres://u:***@h1:1,h2:2/db"),
        (
            "postgresql://u@h/db?sslmode=require&password=s3cret",
            "postgresql://u@h/db?sslmode=require&password=***",
        ),
        ("postgresql:///liuhen", "postgresql:///liuhen"),
        (
            "host=h user=u password=s3cret dbname=d",
            "host=h user=u password=*** dbname=d",
        ),
        ("host=h password = 's3 c\\'ret' dbname=d", "host=h password = *** dbname=d"),
    ],
)
def test_passwords_are_masked_in_urls_and_key_value_conninfo(given, shown):
    assert mask_password(given) == shown
    assert "s3" not in cfg(given).safe_database_url


def test_the_app_conninfo_drops_the_admins_password():
    app = conninfo_to_dict(cfg("postgresql://root:s3cret@h:5433/d").app_conninfo)
    assert app == {"user": "liuhen_app", "host": "h", "port": "5433", "dbname": "d"}


def test_the_app_conninfo_carries_the_apps_own_password():
    app = cfg("postgresql://root:s3cret@h/d", app_password="own").app_conninfo
    assert conninfo_to_dict(app)["password"] == "own"


@pytest.mark.parametrize("app_password", [None, "own"])
def test_the_app_conninfo_is_stable_when_handed_to_a_child(app_password):
    parent = cfg("postgresql://root:s3cret@h/d", app_password)
    child = cfg(parent.app_conninfo, app_password)
    assert child.app_conninfo == parent.app_conninfo


@pytest.fixture
def no_libpq_env(monkeypatch):
    for var in ("PGDATABASE", "PGUSER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(settings.getpass, "getuser", lambda: "osuser")


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("postgresql://bob@h/reports", "reports"),
        ("postgresql://bob@h", "bob"),
        ("host=h user=carol", "carol"),
        ("postgresql://h", "osuser"),
        ("postgresql:///liuhen", "liuhen"),
    ],
)
def test_the_database_name_follows_libpq(no_libpq_env, url, name):
    assert cfg(url).database_name == name


def test_the_database_name_honours_libpqs_environment(no_libpq_env, monkeypatch):
    monkeypatch.setenv("PGUSER", "dave")
    assert cfg("postgresql://h").database_name == "dave"
    monkeypatch.setenv("PGDATABASE", "ledger")
    assert cfg("postgresql://h").database_name == "ledger"


def test_children_get_the_application_role_and_no_admin_secret():
    parent = cfg("postgresql://root:s3cret@h/d")
    env = child_env(
        parent, {"LIUHEN_DATABASE_URL": parent.database_url, "PGPASSWORD": "x"}
    )
    assert env["LIUHEN_DATABASE_URL"] == parent.app_conninfo
    assert "s3cret" not in "".join(env.values())
    assert "PGPASSWORD" not in env and "LIUHEN_DB_APP_PASSWORD" not in env
    with_own = child_env(cfg(parent.database_url, "own"), {})
    assert with_own["LIUHEN_DB_APP_PASSWORD"] == "own"
