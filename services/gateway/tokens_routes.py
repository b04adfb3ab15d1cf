"""Who is asking (`principal`, every route's first step) and /v1/tokens, where a
district's administrator lists and revokes its tokens.

`authenticated` refuses an address that guessed too often (429, throttle.py) and
logs each failed authentication with the client's address, the token's id when it
parsed and a reason, never the token (structlog); `principal` (bearer tokens) and
Open311's api_key both go through it. `principal` then settles the district a
request acts in (a city token's X-Liuhen-District: auth.acting_in).

Administrators see ids, roles, units, subjects and times, never a hash. A city
token acts in every district, so no district's administrator may revoke it: the
operator does (`liuhen token revoke`).
"""

from contracts import gateway as schemas
from eventlog.providers import Logger
from eventlog.store import EventStore

from . import policy
from .auth import (
    DISTRICT_HEADER,
    AuthError,
    Principal,
    ScopeError,
    acting_in,
    authenticate,
)
from .openapi import _param, _responses
from .throttle import AuthFailures, FailureLimiter
from .tokens import PASTED, NoSuchToken, revoke, tokens_of
from .web import ApiError, api, checked_id, json_response, query_args

ADMIN = frozenset({"admin"})
VIEW, LIST = schemas.TokenView(), schemas.TokenList()
REVOKE = schemas.RevokeQuery()


class TooManyFailures(ApiError):
    def __init__(self, retry_after: int):
        super().__init__(
            429,
            "too_many_failures",
            f"too many failed authentications from this address; "
            f"try again in {retry_after} s",
            {"retry_after": retry_after},
        )
        self.headers = {"Retry-After": str(retry_after)}


# What a guess looks like. An expired or revoked token is refused (401) and logged,
# but not counted: its holder once had it, nothing is being guessed, and an
# integrator polling with a stale token behind a shared proxy would otherwise lock
# out every client of that proxy within a minute. "missing" (no token) is neither
# counted nor logged.
GUESSES = frozenset({"malformed", "unknown_token", "wrong_secret"})


def authenticated(conn, failures: FailureLimiter, log, request, header) -> Principal:
    """authenticate(), throttled per client address and logged: the one way a
    token is checked, for a bearer header and for Open311's api_key alike.
    TooManyFailures (429) when the address failed too often, else AuthError."""
    client = request.remote_addr or "unknown"
    wait = failures.retry_after(client)
    if wait is not None:
        log.warning("authentication refused", client=client, reason="too_many_failures")
        raise TooManyFailures(wait)
    try:
        return authenticate(conn, header)
    except AuthError as exc:
        if exc.reason != "missing":
            why = {"client": client, "token_id": exc.token_id, "reason": exc.reason}
            if exc.reason in GUESSES:  # the count within the window, this one too
                why["failures"] = failures.fail(client)
            log.warning("authentication failed", **why)
        raise


def principal(conn, failures: FailureLimiter, log, request) -> Principal:
    header = request.headers.get("Authorization")
    who = authenticated(conn, failures, log, request, header)
    try:
        return acting_in(conn, who, request.headers.get(DISTRICT_HEADER))
    except ScopeError as exc:
        code = "forbidden" if exc.status == 403 else "invalid"
        raise ApiError(
            exc.status, code, str(exc), {"header": DISTRICT_HEADER}
        ) from None


class TokensRoutes:
    auth_failures = AuthFailures()
    auth_log = Logger()

    def _token_admin(self, request, what: str) -> Principal:
        who = self.principal(request)
        policy.require(who, ADMIN, what)
        return who

    @api("GET", "/v1/tokens")
    def list_tokens(self, request):
        who = self._token_admin(request, "list the district's tokens")
        return json_response(LIST.dump({"tokens": tokens_of(self.db, who.district)}))

    @api("DELETE", "/v1/tokens/<string:token_id>")
    def revoke_token(self, request, token_id):
        who = self._token_admin(request, "revoke tokens")
        if token_id.startswith("lh_"):  # a whole token: echo none of it
            raise ApiError(404, "not_found", PASTED)
        checked_id(schemas.TOKEN_ID, token_id, "token")
        reason = query_args(request, REVOKE).get("reason")
        found = tokens_of(self.db, who.district, token_id)
        if not found:
            raise ApiError(404, "not_found", f"no token {token_id} in {who.district}")
        if found[0]["role"] == "city":
            raise ApiError(
                403,
                "forbidden",
                "a city token acts in every district: the operator revokes it "
                "(liuhen token revoke)",
            )
        try:
            view = revoke(
                EventStore(self.db),
                token_id,
                by=f"{who.role}:{who.subject}",
                reason=reason,
                district=who.district,
            )
        except NoSuchToken as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        return json_response(VIEW.dump(view))


def openapi_paths(spec) -> None:
    """Adds this module's paths to the gateway's OpenAPI document."""
    spec.components.schema("TokenView", schema=schemas.TokenView)
    spec.components.schema("TokenList", schema=schemas.TokenList)
    tags = ["tokens"]
    spec.path(
        "/v1/tokens",
        operations={
            "get": {
                "summary": "The district's bearer tokens, newest first (admin)",
                "description": "Ids, roles, units, subjects, when each was issued, "
                "expires or was revoked: never a secret or its hash.",
                "tags": tags,
                "responses": _responses("200", "TokenList", "401", "403"),
            }
        },
    )
    spec.path(
        "/v1/tokens/{token_id}",
        operations={
            "delete": {
                "summary": "Revoke a token of the district (admin)",
                "description": "Recorded as TokenRevoked with the reason; the token "
                "authenticates nobody from then on (401). Revoking a revoked token "
                "changes nothing. A city token is revoked by the operator "
                "(`liuhen token revoke`), not by a district.",
                "tags": tags,
                "parameters": [
                    _param("token_id"),
                    {"in": "query", "schema": schemas.RevokeQuery},
                ],
                "responses": _responses("200", "TokenView", "401", "403", "404", "422"),
            }
        },
    )
