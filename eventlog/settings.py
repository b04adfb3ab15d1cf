"""Settings from the environment, validated once (environs), with local defaults."""

from dataclasses import dataclass

from environs import Env
from psycopg.conninfo import conninfo_to_dict, make_conninfo


@dataclass(frozen=True)
class Settings:
    database_url: str
    app_user: str
    app_password: str | None
    amqp_uri: str
    http: str

    @property
    def admin_conninfo(self) -> str:
        """As given: used for migrations and bring-up (creates roles and schemas)."""
        return make_conninfo(self.database_url)

    @property
    def app_conninfo(self) -> str:
        """The same database, as the application role.

        Services never connect as the owner or a superuser: the append-only guard
        and row-level security only bind roles that own nothing and bypass nothing.
        """
        extra = {"user": self.app_user}
        if self.app_password:
            extra["password"] = self.app_password
        return make_conninfo(self.database_url, **extra)

    @property
    def database_name(self) -> str:
        return conninfo_to_dict(self.admin_conninfo).get("dbname", "liuhen")


def load() -> Settings:
    env = Env()
    return Settings(
        database_url=env.str("LIUHEN_DATABASE_URL", "postgresql:///liuhen"),
        app_user=env.str("LIUHEN_DB_APP_USER", "liuhen_app"),
        app_password=env.str("LIUHEN_DB_APP_PASSWORD", None),
        amqp_uri=env.str("LIUHEN_AMQP_URI", "amqp://guest:guest@localhost:5672/"),
        http=env.str("LIUHEN_HTTP", "127.0.0.1:8000"),
    )
