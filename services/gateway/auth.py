"""Bearer tokens: `lh_<token id>_<secret>`, each with a district, a role and for a
unit handler its unit.

A token is issued as an event (TokenIssued on `token-<id>`: who may do what, from
when, by whom) and projected into gateway.tokens. Only the SHA-256 of the secret is
kept, in the event and the row: the secret has 256 bits of entropy, so a fast hash
is enough (a slow one protects guessable passwords, which these are not), and the
comparison runs in constant time.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from psycopg.rows import dict_row

from contracts.vocabulary import ROLES
from eventlog.handler import handle
from eventlog.model import DISTRICT, NewEvent
from eventlog.tenancy import district_scope
from services.directory import read as directory

TOKEN = re.compile(r"^lh_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$")


class AuthError(Exception):
    pass


@dataclass(frozen=True)
class Principal:
    token_id: str
    district: str
    role: str
    unit: str | None
    subject: str

    def actor(self) -> dict:
        """Who acts, as the domain services take it."""
        return {"id": self.subject, "role": self.role, "unit": self.unit}


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def issue(store, district, role, unit=None, subject=None, by="cli") -> tuple[str, str]:
    """A new token; returns (token id, the token). The token is shown only now."""
    if not DISTRICT.fullmatch(district or ""):
        raise AuthError(f"{district!r} is not a district code")
    if role not in ROLES:
        raise AuthError(f"no role {role!r}; roles: {', '.join(ROLES)}")
    if (role == "unit_handler") != bool(unit):
        raise AuthError("a unit_handler token needs --unit, and only it takes one")
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
        if e.type == "TokenIssued":
            d = e.data
            store.conn.execute(
                "INSERT INTO gateway.tokens (token_id, secret_hash, district, role,"
                " unit, subject, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    d["token_id"],
                    bytes.fromhex(d["secret_hash"]),
                    e.district,
                    d["role"],
                    d["unit"],
                    d["subject"],
                    e.occurred_at,
                ),
            )


def authenticate(conn, header: str | None) -> Principal:
    """The principal of an `Authorization: Bearer lh_...` header, or AuthError."""
    if not header:
        raise AuthError("this needs a bearer token (Authorization: Bearer lh_...)")
    scheme, _, token = header.partition(" ")
    match = TOKEN.fullmatch(token.strip()) if scheme.lower() == "bearer" else None
    if match is None:
        raise AuthError("the Authorization header is not a Liuhen bearer token")
    token_id, secret = match.groups()
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT token_id, secret_hash, district, role, unit, subject, revoked_at"
            " FROM gateway.tokens WHERE token_id = %s",
            (token_id,),
        )
        .fetchone()
    )
    # Compare even when there is no row, so timing does not tell which ids exist.
    expected = bytes(row["secret_hash"]) if row else bytes(32)
    if not hmac.compare_digest(expected, _hash(secret)) or row is None:
        raise AuthError("the token is not valid")
    if row["revoked_at"] is not None:
        raise AuthError("the token has been revoked")
    return Principal(
        row["token_id"], row["district"], row["role"], row["unit"], row["subject"]
    )
