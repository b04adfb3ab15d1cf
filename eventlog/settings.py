"""Settings from the environment, validated once (environs), with local defaults."""

import getpass
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from environs import Env
from psycopg.conninfo import conninfo_to_dict, make_conninfo

MASK = "***"
# key=value conninfo: password=secret or password='se cret' (quotes escape with \).
_KV_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")


@dataclass(frozen=True)
class Settings:
    database_url: str
    app_user: str
    app_password: str | None
    amqp_uri: str
    http: str
    digest_key: str | None = None  # the operator's Ed25519 signing key (PEM file)
    digest_public_keys: tuple[str, ...] = ()  # more trusted public keys (base64)

    @property
    def admin_conninfo(self) -> str:
        """As given: used for migrations and bring-up (creates roles and schemas)."""
        return make_conninfo(self.database_url)

    @property
    def app_conninfo(self) -> str:
        """The same database, as the application role.

        Services never connect as the owner or a superuser: the append-only guard
        and row-level security only bind roles that own nothing and bypass nothing.
        The admin's password is dropped: the application role authenticates with
        its own (LIUHEN_DB_APP_PASSWORD) or by the server's trust, never with the
        admin's. Applied to its own result it returns the same string, so a child
        given this as LIUHEN_DATABASE_URL derives the same conninfo.
        """
        params = conninfo_to_dict(self.database_url)
        params.pop("password", None)
        params["user"] = self.app_user
        if self.app_password:
            params["password"] = self.app_password
        return make_conninfo("", **params)

    @property
    def database_name(self) -> str:
        """The database libpq connects to: dbname, else the user's name."""
        params = conninfo_to_dict(self.admin_conninfo)
        return params.get("dbname") or os.environ.get("PGDATABASE") or _user(params)

    @property
    def safe_database_url(self) -> str:
        """database_url fit for messages and logs: any password masked."""
        return mask_password(self.database_url)


def _user(params: dict) -> str:
    # libpq's own fallback chain for the user, hence for the default dbname.
    return params.get("user") or os.environ.get("PGUSER") or getpass.getuser()


def mask_password(conninfo: str) -> str:
    """The conninfo (URL or key=value) with any password replaced by ***."""
    if re.match(r"postgres(ql)?://", conninfo):
        return _mask_url(conninfo)
    return _KV_PASSWORD.sub(lambda m: m.group(1) + MASK, conninfo)


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":" + MASK
    query = re.sub(r"(^|&)(password=)[^&]*", rf"\1\2{MASK}", parts.query)
    # Rebuilt by hand: urlunsplit drops the empty authority of postgresql:///db.
    return (
        f"{parts.scheme}://{userinfo}{at}{hosts}{parts.path}"
        + (f"?{query}" if query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


def load() -> Settings:
    env = Env()
    return Settings(
        database_url=env.str("LIUHEN_DATABASE_URL", "postgresql:///liuhen"),
        app_user=env.str("LIUHEN_DB_APP_USER", "liuhen_app"),
        app_password=env.str("LIUHEN_DB_APP_PASSWORD", None),
        amqp_uri=env.str("LIUHEN_AMQP_URI", "amqp://guest:guest@localhost:5672/"),
        http=env.str("LIUHEN_HTTP", "127.0.0.1:8000"),
        digest_key=env.str("LIUHEN_DIGEST_KEY", None) or None,
        digest_public_keys=tuple(env.list("LIUHEN_DIGEST_PUBLIC_KEYS", [])),
    )
