"""Managing bearer tokens: their lifetimes, revocation, and an administrator's list.

Revocation is an event (TokenRevoked on the token's stream, its reason in the log),
projected in the same transaction: the next request with the token is refused. A
token already revoked stays as it was (no second event): revoking is idempotent.
"""

import re
from datetime import timedelta

from psycopg.rows import dict_row

from contracts.complaints import storable
from contracts.gateway import REASON_LENGTH, TOKEN_ID
from eventlog.handler import handle
from eventlog.model import NewEvent
from eventlog.tenancy import district_scope

from . import auth

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DURATION = re.compile(r"^([1-9][0-9]{0,5})([mhdw])$")
PASTED = "give the token id, not the token (the 10 characters after lh_)"
VIEW = (
    "SELECT token_id, district, role, unit, subject, created_at, expires_at,"
    " revoked_at, revoked_reason, CASE WHEN revoked_at IS NOT NULL THEN 'revoked'"
    " WHEN expires_at <= now() THEN 'expired' ELSE 'active' END AS status"
    " FROM gateway.tokens"
)


class RevokeRefused(ValueError):
    """A revocation that cannot be: its message is one line for the operator."""


class NoSuchToken(RevokeRefused, LookupError):
    pass


def lifetime(text: str) -> timedelta:
    """`90d`, `12h`, `30m`, `2w` as a timedelta; AuthError naming the form."""
    match = DURATION.fullmatch(text.strip())
    if match is None:
        raise auth.AuthError(
            f"--expires-in {text!r}: give a number and a unit, m h d or w (e.g. 90d)"
        )
    return timedelta(**{UNITS[match[2]]: int(match[1])})


def tokens_of(conn, district: str, token_id: str | None = None) -> list[dict]:
    """The district's tokens, newest first (or the one asked for): never a hash."""
    query, params = VIEW, ()
    if token_id is not None:
        query, params = VIEW + " WHERE token_id = %s", (token_id,)
    with district_scope(conn, district), conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query + " ORDER BY created_at DESC", params).fetchall()


def revoke(store, token_id: str, *, by: str, reason=None, district=None) -> dict:
    """Revoke `token_id` (of `district`, when the caller acts for one); returns the
    token's view. NoSuchToken when there is none (there), RevokeRefused when the
    reason cannot be kept."""
    _check(token_id, reason)
    issued = None
    if TOKEN_ID.fullmatch(token_id):
        history = store.read_stream(f"token-{token_id}")
        issued = next((e for e in history if e.type == "TokenIssued"), None)
    if issued is None or district not in (None, issued.district):
        where = f" in district {district}" if district else ""
        raise NoSuchToken(f"no token {token_id[:40]!r}{where}")

    def decide(revoked: bool) -> list[NewEvent]:
        if revoked:
            return []
        return [NewEvent("TokenRevoked", {"token_id": token_id}, by, reason)]

    handle(
        store,
        f"token-{token_id}",
        issued.district,
        fold=lambda events: any(e.type == "TokenRevoked" for e in events),
        decide=decide,
        project=auth.project,
    )
    return tokens_of(store.conn, issued.district, token_id)[0]


def _check(token_id: str, reason: str | None) -> None:
    # A whole token pasted where its id belongs: say so without echoing a character
    # of it, since the answer lands in terminals, scrollback and CI logs.
    if token_id.startswith("lh_"):
        raise NoSuchToken(PASTED)
    # As RevokeQuery checks the HTTP route's: the log cannot keep a NUL.
    if reason is not None and not (
        storable(reason) and 1 <= len(reason) <= REASON_LENGTH
    ):
        raise RevokeRefused(
            f"a revocation's reason must be 1 to {REASON_LENGTH} characters, "
            "without NUL or lone surrogates"
        )
