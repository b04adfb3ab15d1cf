"""JSON over nameko's @http: one error shape, never an HTML page, never a 500 for bad
input.

Every error is `{"error": {"code", "message", "details"}}` with its 4xx. Errors from
the domain services arrive over RPC as nameko RemoteErrors carrying the exception's
class name; ERRORS maps those names to statuses. Anything unmapped is a bug: 500,
logged by nameko with its traceback, and the body still JSON.
"""

import json
import logging

from marshmallow import Schema, ValidationError
from nameko.exceptions import RemoteError
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Response

from .auth import AuthError

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details=None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = (
            status,
            code,
            message,
            details,
        )


# exception class name (as RPC reports it) -> (status, code)
ERRORS = {
    "NotFound": (404, "not_found"),
    "Erased": (410, "erased"),  # a complainant's identity, its key destroyed
    "Unreadable": (503, "unavailable"),  # pii.py: not with the configured key
    "IllegalTransition": (409, "illegal_transition"),
    "NotYourUnit": (403, "forbidden"),
    "NotDue": (409, "not_due"),
    "Invalid": (422, "invalid"),
    "DomainError": (422, "invalid"),
    "UnknownYear": (409, "calendar_unknown"),
    "ConcurrencyError": (409, "conflict"),
    "InvalidEvent": (422, "invalid"),
    "IdTaken": (409, "conflict"),
    "BadCursor": (422, "invalid"),
    "UnknownPosition": (422, "unknown_position"),  # the feed's `after`
}


def checked_id(pattern, value: str, what: str) -> str:
    """An id that cannot be one is simply not found (and never reaches a service)."""
    if not pattern.fullmatch(value):
        raise ApiError(404, "not_found", f"no {what} {value[:40]!r}")
    return value


def action_body(bodies: dict, action: str, what: str):
    """The body schema of `POST .../{id}/{action}`; 404 naming the actions there are."""
    if action not in bodies:
        raise ApiError(
            404,
            "not_found",
            f"no action {action!r} on {what}",
            {"actions": sorted(bodies)},
        )
    return bodies[action]


MAX_BODY = 1 << 20  # 1 MiB: a complaint is text; attachments travel by reference


def json_response(payload, status: int = 200, headers=None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, default=str)
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate echoed from the request: escape
        body = json.dumps(payload, default=str)
    return Response(body, status=status, headers=headers, mimetype="application/json")


def error_response(exc: Exception) -> Response:
    if isinstance(exc, ApiError):
        status, code, message, details = exc.status, exc.code, exc.message, exc.details
    elif isinstance(exc, AuthError):
        status, code, message, details = 401, "unauthenticated", str(exc), None
    elif isinstance(exc, RemoteError) and exc.exc_type in ERRORS:
        (status, code), message, details = ERRORS[exc.exc_type], exc.value, None
    else:
        log.error("unexpected error in the gateway", exc_info=exc)
        status, code, details = 500, "internal", None
        message = "an unexpected error; it has been logged"
    headers = {"WWW-Authenticate": 'Bearer realm="liuhen"'} if status == 401 else {}
    headers.update(getattr(exc, "headers", None) or {})  # a 429's Retry-After
    body = {"error": {"code": code, "message": message, "details": details}}
    return json_response(body, status, headers)


class JsonHttp(HttpRequestHandler):
    def __init__(self, method, url, **kwargs):
        # Refusals are answers, not failures: nameko logs only unexpected ones.
        kwargs.setdefault("expected_exceptions", (ApiError, AuthError, RemoteError))
        super().__init__(method, url, **kwargs)

    def response_from_exception(self, exc):
        return error_response(exc)


api = JsonHttp.decorator


def _body(request) -> bytes:
    """The body, of which at most MAX_BODY + 1 bytes are read.

    werkzeug reads a body without a Content-Length (Transfer-Encoding: chunked) as
    empty unless the server sets `wsgi.input_terminated`, which eventlet's does not,
    though it decodes chunked bodies: so a chunked JSON body was silently dropped
    (an action done without its note, an oversized body loaded as `{}`). Read such
    a body from the server's stream, bounded, never all of it into memory."""
    if request.content_length is not None or "chunked" not in (
        request.headers.get("Transfer-Encoding", "").lower()
    ):
        return request.get_data(cache=True)
    try:
        return request.environ["wsgi.input"].read(MAX_BODY + 1)
    except (ValueError, OSError) as exc:  # eventlet's ChunkReadError is a ValueError
        raise ApiError(
            400, "malformed_json", f"the body is not JSON: broken chunks ({exc})"
        ) from None


def load_json(request, schema: Schema, *, partial=False) -> dict:
    """The request's JSON body loaded through `schema`, or a 4xx naming the problem."""
    if (request.content_length or 0) > MAX_BODY:
        raise ApiError(413, "too_large", f"the body may be at most {MAX_BODY} bytes")
    raw = _body(request)
    if len(raw) > MAX_BODY:  # chunked, without a Content-Length
        raise ApiError(413, "too_large", f"the body may be at most {MAX_BODY} bytes")
    if not raw.strip():
        data = {}
    else:
        if request.mimetype not in ("application/json", ""):
            raise ApiError(
                415,
                "unsupported_media_type",
                f"send JSON (Content-Type: application/json), not {request.mimetype}",
            )
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ApiError(
                400, "malformed_json", f"the body is not JSON: {exc}"
            ) from None
    if not isinstance(data, dict):
        raise ApiError(422, "invalid", "the body must be a JSON object")
    return load(schema, data)


def load(schema: Schema, data) -> dict:
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ApiError(
            422, "invalid", "the request has invalid fields", exc.messages
        ) from None


def query_args(request, schema: Schema, lists=()) -> dict:
    """Query string parameters through `schema`; `lists` may repeat or use commas."""
    data = {}
    for key in request.args:
        values = request.args.getlist(key)
        if key in lists:
            data[key] = [v for value in values for v in value.split(",") if v]
        elif len(values) > 1:
            raise ApiError(422, "invalid", f"parameter {key!r} is given twice")
        else:
            data[key] = values[0]
    return load(schema, data)
