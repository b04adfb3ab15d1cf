"""Bearer tokens: `lh_<token id>_<secret>`, each with a district, a role, for a unit
handler its unit, and an expiry.

A token is issued as an event (TokenIssued on `token-<id>`: who may do what, from
when, until when, by whom), revoked as one (TokenRevoked: services/gateway/tokens.py)
and projected into gateway.tokens. Only the SHA-256 of the secret is kept, in the
event and the row: the secret has 256 bits of entropy, so a fast hash is enough (a
slow one protects guessable passwords, which these are not), and the comparison runs
in constant time.

gateway.tokens is under row-level security like every read model. Authentication
comes before any district is known: it sets `liuhen.token_id` to the presented id for
its own transaction only, and the table's `authenticating` policy shows that one row
(services/gateway/migrations/003_rls_tokens.sql says why this and not a SECURITY
DEFINER function).

City scope: a token of role `city` is issued in a district of the directory (its
home, where its issue is recorded: `--district city`, the city's own jurisdiction,
is the natural one) and acts in the district each request names in the header
X-Liuhen-District (`acting_in`). Every other token acts in its own district only,
and a request of one that names another district is refused.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from psycopg.rows import dict_row

from contracts.vocabulary import ROLES
from eventlog.handler import handle
from eventlog.model import DISTRICT, NewEvent
from eventlog.tenancy import district_scope
from services.directory import read as directory

TOKEN = re.compile(r"^lh_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$")
LIFETIME = timedelta(days=90)  # unless issued with another
LONGEST = timedelta(days=366)  # a credential nobody rotates is one nobody knows of
CITY = "city"
DISTRICT_HEADER = "X-Liuhen-District"
LOOKUP = (
    "SELECT token_id, secret_hash, district, role, unit, subject, revoked_at,"
    " expires_at, expires_at <= now() AS expired FROM gateway.tokens"
    " WHERE token_id = %s"
)


class AuthError(Exception):
    """No valid token (401). `reason`, a word, and `token_id`, when the token parsed,
    say why for the log; the message is for the client. Neither holds the token."""

    def __init__(self, message: str, reason: str = "invalid", token_id=None):
        super().__init__(message)
        self.reason, self.token_id = reason, token_id


class ScopeError(Exception):
    """A valid token asked to act where it may not (403), or a city token did not
    say where it acts (422)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Principal:
    token_id: str
    district: str  # where it acts: its own, or for a city token the one named
    role: str
    unit: str | None
    subject: str
    home: str | None = None  # the token's own district

    def actor(self) -> dict:
        """Who acts, as the domain services take it."""
        return {"id": self.subject, "role": self.role, "unit": self.unit}


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def issue(
    store, district, role, unit=None, subject=None, by="cli", expires_in=LIFETIME
) -> tuple[str, str]:
    """A new token; returns (token id, the token). The token is shown only now."""
    if not DISTRICT.fullmatch(district or ""):
        raise AuthError(f"{district!r} is not a district code")
    if role not in ROLES:
        raise AuthError(f"no role {role!r}; roles: {', '.join(ROLES)}")
    if (role == "unit_handler") != bool(unit):
        raise AuthError("a unit_handler token needs --unit, and only it takes one")
    if not timedelta(0) < expires_in <= LONGEST:
        raise AuthError(f"a token lives more than 0 and at most {LONGEST.days} days")
    _known(store.conn, district, unit)
    token_id = "".join(
        secrets.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(10)
    )
    secret = secrets.token_urlsafe(32)
    data = {
        "token_id": token_id,
        "role": role,
        "unit": unit,
        "subject": subject or f"{role}-{token_id[:4]}",
        "secret_hash": _hash(secret).hex(),
        "expires_at": (datetime.now(UTC) + expires_in).isoformat(),
    }
    handle(
        store,
        f"token-{token_id}",
        district,
        fold=lambda history: None,
        decide=lambda _: [NewEvent("TokenIssued", data, actor=by)],
        project=project,
    )
    return token_id, f"lh_{token_id}_{secret}"


def _known(conn, district, unit) -> None:
    """A token for a district or unit the directory does not know would be useless,
    or worse, valid for one loaded later under that name by mistake."""
    with district_scope(conn, district):
        if directory.district(conn, district) is None:
            raise AuthError(f"no district {district!r} in the directory")
        if unit and directory.unit(conn, unit) is None:
            raise AuthError(f"no unit {unit!r} in district {district}'s directory")


def project(store, recorded) -> None:
    for e in recorded:
        d = e.data
        if e.type == "TokenIssued":
            expires = d.get("expires_at") or (e.occurred_at + LIFETIME).isoformat()
            store.conn.execute(
                "INSERT INTO gateway.tokens (token_id, secret_hash, district, role,"
                " unit, subject, created_at, expires_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    d["token_id"],
                    bytes.fromhex(d["secret_hash"]),
                    e.district,
                    d["role"],
                    d.get("unit"),
                    d["subject"],
                    e.occurred_at,
                    expires,
                ),
            )
        elif e.type == "TokenRevoked":
            store.conn.execute(
                "UPDATE gateway.tokens SET revoked_at = %s, revoked_reason = %s"
                " WHERE token_id = %s AND revoked_at IS NULL",
                (e.occurred_at, e.reason, d["token_id"]),
            )


def authenticate(conn, header: str | None) -> Principal:
    """The principal of an `Authorization: Bearer lh_...` header, or AuthError."""
    if not header:
        raise AuthError(
            "this needs a bearer token (Authorization: Bearer lh_...)", "missing"
        )
    scheme, _, token = header.partition(" ")
    match = TOKEN.fullmatch(token.strip()) if scheme.lower() == "bearer" else None
    if match is None:
        raise AuthError(
            "the Authorization header is not a Liuhen bearer token", "malformed"
        )
    token_id, secret = match.groups()
    row = _lookup(conn, token_id)
    # Compare even when there is no row, so timing does not tell which ids exist.
    expected = bytes(row["secret_hash"]) if row else bytes(32)
    if not hmac.compare_digest(expected, _hash(secret)) or row is None:
        reason = "unknown_token" if row is None else "wrong_secret"
        raise AuthError("the token is not valid", reason, token_id)
    # Only now, to its holder, whether it was revoked or has expired.
    if row["revoked_at"] is not None:
        when = row["revoked_at"].isoformat(timespec="seconds")
        raise AuthError(
            f"token {token_id} was revoked at {when}; ask for a new one",
            "revoked",
            token_id,
        )
    if row["expired"]:
        when = row["expires_at"].isoformat(timespec="seconds")
        raise AuthError(
            f"token {token_id} expired at {when}; ask for a new one",
            "expired",
            token_id,
        )
    return Principal(
        row["token_id"],
        row["district"],
        row["role"],
        row["unit"],
        row["subject"],
        home=row["district"],
    )


def _lookup(conn, token_id: str) -> dict | None:
    """The row of `token_id`, seen through the `authenticating` policy: the setting
    lives for this transaction only, as a district scope does."""
    with conn.transaction():
        conn.execute("SELECT set_config('liuhen.token_id', %s, true)", (token_id,))
        row = conn.cursor(row_factory=dict_row).execute(LOOKUP, (token_id,)).fetchone()
        # In an outer transaction this was a savepoint, and a local setting outlives
        # its release: clear it, as district_scope does.
        conn.execute("SELECT set_config('liuhen.token_id', '', true)")
    return row


def acting_in(conn, who: Principal, named: str | None) -> Principal:
    """Where `who` acts, given the district a request names (X-Liuhen-District).

    A city token must name one, of the directory, and acts there. Any other token
    acts in its own district: naming another is refused (403), never ignored, so a
    client that believes it acts elsewhere learns at once that it does not."""
    if who.role != CITY:
        if named is not None and named != who.district:
            raise ScopeError(
                403,
                f"a token of district {who.district} acts only there; "
                f"{DISTRICT_HEADER} names {named[:40]!r}",
            )
        return who
    if not named:
        raise ScopeError(
            422,
            f"a city token acts in the district a request names: send "
            f"{DISTRICT_HEADER}: <district code>",
        )
    if not DISTRICT.fullmatch(named) or not _in_directory(conn, named):
        raise ScopeError(
            422, f"{DISTRICT_HEADER} names no district of the directory: {named[:40]!r}"
        )
    return replace(who, district=named)


def _in_directory(conn, district: str) -> bool:
    with district_scope(conn, district):
        return directory.district(conn, district) is not None
