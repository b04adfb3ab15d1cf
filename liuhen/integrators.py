r"""Integrators' RabbitMQ users, each confined to one district's events.

`liuhen integrator add --district binhai acme` makes the RabbitMQ user
`integrator.acme` on the platform's vhost (LIUHEN_AMQP_URI's) with:

- topic permissions on `liuhen.events`: read `^binhai\.`, write `^$`. RabbitMQ checks
  the key of every binding to a topic exchange against the read pattern, so the user
  may bind `binhai.#` but never `jinghai.#` nor `#`: the broker closes the channel
  with ACCESS_REFUSED. Every routing key begins with its district
  (contracts.registry.routing_key), and a binding whose first word is `binhai`
  matches only routing keys whose first word is `binhai`.
- permissions: configure and write only on names beginning `integrator.acme.` (its
  own queues: declare, delete, bind to), read on those and on `liuhen.events` (to
  bind from it). No write on `liuhen.events` nor the default exchange (it cannot
  publish), no other queue to read or declare.

Why the management HTTP API rather than rabbitmqctl: rabbitmqctl runs on a broker
node (it speaks Erlang distribution with the node's cookie), while the operator runs
`liuhen` where the platform runs, against a broker that may be a cluster elsewhere or
a hosted one; those all serve the management API (deploy/bringup.sh enables it
locally). LIUHEN_RABBITMQ_API names it (`http://admin:password@host:15672/`, a user
tagged `administrator`); by default LIUHEN_AMQP_URI's host and credentials on 15672.

Each add and remove is recorded (IntegratorAdded, IntegratorRemoved on
`integrator-<district>-<name>`, contracts/integrators.py), never with the password.
"""

import base64
import json
import re
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from environs import Env

from eventlog.handler import handle
from eventlog.model import DISTRICT, NewEvent
from eventlog.relay import EXCHANGE
from eventlog.tenancy import district_scope
from services.directory import read as directory

NAME = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")
TAG = "liuhen-integrator"  # marks the users made here; RabbitMQ grants nothing by it
_USER = re.compile(r"^integrator\.[a-z][a-z0-9_-]{1,31}$")
_TOPIC_READ = re.compile(r"^\^([a-z][a-z0-9_]{1,31})\\\.$")  # our own `^binhai\.`


class IntegratorError(Exception):
    """A readable one-line reason to stop."""


def user_of(name: str) -> str:
    """The RabbitMQ user of integrator `name`: never the platform's own users."""
    if not NAME.fullmatch(name):
        raise IntegratorError(
            f"{name!r} is not an integrator name: 2-32 lower-case letters, "
            "digits, _ and -, beginning with a letter"
        )
    return f"integrator.{name}"


@dataclass(frozen=True, order=True)
class Integrator:
    name: str
    district: str

    def __post_init__(self):
        user_of(self.name)  # checks the name
        if not DISTRICT.fullmatch(self.district):
            raise IntegratorError(f"{self.district!r} is not a district code")

    @property
    def user(self) -> str:
        return user_of(self.name)

    @property
    def queue_prefix(self) -> str:
        return f"integrator.{self.name}."

    @property
    def stream(self) -> str:
        return f"integrator-{self.district}-{self.name}"

    def permissions(self) -> dict:
        own = re.escape(self.queue_prefix)
        read = f"^({own}.*|{re.escape(EXCHANGE)})$"
        return {"configure": f"^{own}", "write": f"^{own}", "read": read}

    def topic_permissions(self) -> dict:
        read = f"^{re.escape(self.district)}\\."
        return {"exchange": EXCHANGE, "write": "^$", "read": read}


def vhost_of(amqp_uri: str) -> str:
    """The vhost of an AMQP URI, read as eventlog.relay.connect_amqp reads it."""
    path = urlsplit(amqp_uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def client_uri(amqp_uri: str, who: Integrator, password: str, host=None) -> str:
    """The URI the integrator connects with: the platform's broker (or `host`)."""
    parts = urlsplit(amqp_uri)
    where = host or parts.netloc.rpartition("@")[2] or "localhost"
    user, vhost = quote(who.user, safe=""), quote(vhost_of(amqp_uri), safe="")
    return (
        f"{parts.scheme or 'amqp'}://{user}:{quote(password, safe='')}@{where}/{vhost}"
    )


class ManagementApi:
    """The few calls of RabbitMQ's management HTTP API that this needs."""

    def __init__(self, url: str, timeout: float = 15.0):
        parts = urlsplit(url)
        userinfo, _, where = parts.netloc.rpartition("@")
        user, _, password = userinfo.partition(":")
        self.base = f"{parts.scheme}://{where}{parts.path.rstrip('/')}/api"
        self.shown = f"{parts.scheme}://{user + ':***@' if userinfo else ''}{where}/"
        credentials = f"{unquote(user)}:{unquote(password)}".encode()
        self.auth = "Basic " + base64.b64encode(credentials).decode()
        self.timeout = timeout
        # Administrator credentials go to the broker itself, never through a proxy
        # that http_proxy and friends might name.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @classmethod
    def configured(cls, amqp_uri: str) -> "ManagementApi":
        url = Env().str("LIUHEN_RABBITMQ_API", None)
        if not url:
            parts = urlsplit(amqp_uri)
            host = parts.hostname or "localhost"
            host = f"[{host}]" if ":" in host else host
            userinfo = parts.netloc.rpartition("@")[0] or "guest:guest"
            url = f"http://{userinfo}@{host}:15672/"
        return cls(url)

    def call(self, method: str, path: str, body=None):
        """The answer's JSON; None for an empty one, and for a GET of nothing."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": self.auth, "Content-Type": "application/json"}
        request = urllib.request.Request(
            self.base + path, data=data, headers=headers, method=method
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and method == "GET":
                return None
            raise IntegratorError(
                f"RabbitMQ refused {method} {unquote(path)} ({self.shown}): "
                f"{exc.code} {_reason(exc)}"
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise IntegratorError(
                f"cannot reach RabbitMQ's management API at {self.shown} "
                f"({getattr(exc, 'reason', exc)}); is the rabbitmq_management plugin "
                "enabled, and LIUHEN_RABBITMQ_API right?"
            ) from None
        try:
            return json.loads(raw) if raw.strip() else None
        except ValueError:
            raise IntegratorError(
                f"{self.shown} does not answer as RabbitMQ's management API"
            ) from None


def _reason(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read())["reason"])
    except (ValueError, KeyError, TypeError, OSError):
        return str(exc.reason)


def _q(name: str) -> str:
    return quote(name, safe="")


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def add(api, store, vhost: str, name: str, district: str, by: str):
    """Make the integrator's user; returns (Integrator, password): shown only now."""
    who = Integrator(name, district)
    _known_district(store.conn, district)
    if api.call("GET", f"/vhosts/{_q(vhost)}") is None:
        raise IntegratorError(f"RabbitMQ has no vhost {vhost!r} (LIUHEN_AMQP_URI's)")
    if api.call("GET", f"/users/{_q(who.user)}") is not None:
        raise IntegratorError(
            f"RabbitMQ already has a user {who.user}: remove integrator {name} "
            "first, or choose another name"
        )
    password = secrets.token_urlsafe(24)
    api.call("PUT", f"/users/{_q(who.user)}", {"password": password, "tags": TAG})
    try:
        # Topic permissions first. A user without topic permissions on an exchange
        # may use every routing key on it: granted the other way round, a client
        # that logged in between the two calls could bind `#` and keep the binding.
        grant = f"{_q(vhost)}/{_q(who.user)}"
        api.call("PUT", f"/topic-permissions/{grant}", who.topic_permissions())
        api.call("PUT", f"/permissions/{grant}", who.permissions())
        data = {
            "name": name,
            "user": who.user,
            "queue_prefix": who.queue_prefix,
            "vhost": vhost,
            "permissions": who.permissions(),
            "topic_permissions": who.topic_permissions(),
        }
        _record(store, who, NewEvent("IntegratorAdded", data, actor=by))
    except BaseException as exc:
        # No access without its record, and no half-made user: take it back.
        try:
            api.call("DELETE", f"/users/{_q(who.user)}")
        except IntegratorError as undo:
            failed = f"{_line(exc)}; and {who.user} remains: {undo}"
            raise IntegratorError(failed) from exc
        raise
    return who, password


def remove(api, store, vhost: str, name: str, by: str) -> Integrator:
    """Delete the user: RabbitMQ (3.7 on) closes its open connections with it."""
    who = find(api, vhost, name)
    api.call("DELETE", f"/users/{_q(who.user)}")
    event = NewEvent("IntegratorRemoved", {"name": name, "user": who.user}, actor=by)
    try:
        _record(store, who, event)
    except Exception as exc:
        raise IntegratorError(
            f"RabbitMQ user {who.user} is deleted, but recording it failed: "
            + _line(exc)
        ) from exc
    return who


def find(api, vhost: str, name: str) -> Integrator:
    user = api.call("GET", f"/users/{_q(user_of(name))}")
    if user is not None and TAG in _tags(user):
        grants = api.call("GET", f"/topic-permissions/{_q(vhost)}/{_q(user['name'])}")
        for district in _districts(grants or []):
            return Integrator(name, district)
    raise IntegratorError(f"no integrator {name} on RabbitMQ vhost {vhost!r}")


def listing(api, vhost: str) -> list[Integrator]:
    users = api.call("GET", "/users") or []
    ours = {u["name"] for u in users if TAG in _tags(u) and _USER.fullmatch(u["name"])}
    grants = api.call("GET", f"/vhosts/{_q(vhost)}/topic-permissions") or []
    return sorted(
        Integrator(g["user"].removeprefix("integrator."), district)
        for g in grants
        if g["user"] in ours
        for district in _districts([g])
    )


def _tags(user: dict) -> list[str]:
    tags = user.get("tags") or []  # a list since RabbitMQ 3.9, a string before
    return tags.split(",") if isinstance(tags, str) else tags


def _districts(grants: list[dict]) -> list[str]:
    found = (
        _TOPIC_READ.fullmatch(g["read"]) for g in grants if g["exchange"] == EXCHANGE
    )
    return [m.group(1) for m in found if m]


def _known_district(conn, district: str) -> None:
    """A user for a district the directory does not know would be useless, or
    worse, read a district loaded later under that name by mistake."""
    with district_scope(conn, district):
        if directory.district(conn, district) is None:
            raise IntegratorError(f"no district {district!r} in the directory")


def _record(store, who: Integrator, event: NewEvent) -> None:
    handle(
        store, who.stream, who.district, fold=lambda _: None, decide=lambda _: [event]
    )


def granted(who: Integrator, password: str, uri: str) -> list[str]:
    """What `add` prints: everything the integrator needs, the password once."""
    return [
        f"user: {who.user}",
        f"password: {password}",
        f"uri: {uri}",
        f"queues: {who.queue_prefix}<anything> (declare, bind and consume only these)",
        f"bindings: {EXCHANGE} with {who.district}.<...> keys only ({who.district}.#)",
    ]
