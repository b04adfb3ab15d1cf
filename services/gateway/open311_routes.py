"""Open311 GeoReport v2 at /open311/v2/, with the district code as jurisdiction_id.

The mapping is in open311.py; here, routes. As the specification says: JSON or XML by
the path's suffix, errors as Open311 error lists (not our /v1 error shape: existing
Open311 clients parse those), an api_key only for POST requests. Reading needs no
key, so without one only the public view is given: no description, no location, no
free text, and nothing that came through the discipline hotline (12388). A key of
the district's own staff shows what its role may see.
"""

import logging
from datetime import UTC, datetime
from functools import partial

from eventlet.event import Event
from nameko.exceptions import RemoteError
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Response

from contracts.complaints import COMPLAINT_ID
from eventlog.model import DISTRICT

from . import open311
from .auth import AuthError, Principal
from .policy import RECEIVE
from .tokens_routes import TooManyFailures, authenticated

log = logging.getLogger(__name__)
SUBSTANCE = frozenset({"intake", "inspector", "supervisor"})


class Open311Http(HttpRequestHandler):
    """Errors in the Open311 shape, in the format the path asked for."""

    def __init__(self, method, url, **kwargs):
        kwargs.setdefault("expected_exceptions", (open311.Open311Error, RemoteError))
        super().__init__(method, url, **kwargs)

    def handle_request(self, request):
        # nameko's own, but the error's format comes from the request's path, which
        # response_from_exception is not given.
        request.shallow = False
        fmt = "json" if request.path.lower().endswith(".json") else "xml"
        try:
            context_data = self.server.context_data_from_headers(request)
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            event = Event()
            self.container.spawn_worker(
                self,
                args,
                kwargs,
                context_data=context_data,
                handle_result=partial(self.handle_result, event),
            )
            return self.response_from_result(event.wait())
        except Exception as exc:
            return open311_error(exc, fmt)


def open311_error(exc, fmt) -> Response:
    if isinstance(exc, RemoteError) and exc.exc_type == "NotFound":
        exc = open311.Open311Error(404, exc.value)
    elif isinstance(exc, RemoteError) and exc.exc_type in ("Invalid", "DomainError"):
        exc = open311.Open311Error(400, exc.value)
    elif not isinstance(exc, open311.Open311Error):
        # The specification's catch-all: "400 - General service error". It is still
        # our bug, so it is logged with its traceback.
        log.error("unexpected error in Open311", exc_info=exc)
        exc = open311.Open311Error(400, "the request could not be served")
    status, body, content_type = open311.render_error(exc, fmt)
    return Response(body, status=status, content_type=content_type, headers=exc.headers)


route = Open311Http.decorator


def _reply(payload, fmt, root, status=200) -> Response:
    body, content_type = open311.render(payload, fmt, root)
    return Response(body, status=status, content_type=content_type)


def _format(tail: str) -> tuple[str, str]:
    return open311.parse_format(tail)


class Open311Routes:
    def _district(self, request) -> str:
        if not DISTRICT.fullmatch(request.args.get("jurisdiction_id", "")):
            open311.check_jurisdiction(request.args, ())  # 400 absent, 404 unknown
        rows = self.db.execute(
            "SELECT DISTINCT district FROM eventlog.events WHERE stream_id = %s",
            (f"directory-{request.args.get('jurisdiction_id', '')}",),
        ).fetchall()
        return open311.check_jurisdiction(request.args, {r[0] for r in rows})

    def _api_key(self, request, key: str) -> Principal:
        """The key's principal, checked as a bearer token is: the same throttle per
        client address and the same log of failures (tokens_routes.authenticated),
        so an api_key is no way around either. Errors in Open311's shape."""
        try:
            return authenticated(
                self.db, self.auth_failures, self.auth_log, request, f"Bearer {key}"
            )
        except TooManyFailures as exc:
            raise open311.Open311Error(429, exc.message, exc.headers) from None
        except AuthError as exc:
            raise open311.Open311Error(403, f"api_key: {exc}") from None

    def _viewer(self, request, district):
        key = request.args.get("api_key") or request.form.get("api_key")
        if not key:
            return {"role": "public"}
        who = self._api_key(request, key)
        if who.district != district:
            raise open311.Open311Error(404, "jurisdiction_id was not found")
        return who.actor()

    @route("GET", "/open311/v2/<string:tail>")
    def open311_list(self, request, tail):
        resource, fmt = _format(tail)
        if resource == "services":
            self._district(request)
            return _reply(open311.service_list(), fmt, "services")
        if resource != "requests":
            raise open311.Open311Error(404, f"no resource {resource!r}")
        district = self._district(request)
        viewer = self._viewer(request, district)
        q = open311.parse_list_query(request.args, datetime.now(UTC))
        query = {
            # An id that cannot be one matches nothing (and never reaches SQL).
            "ids": [i for i in q["ids"] if COMPLAINT_ID.fullmatch(i)]
            or (["none"] if q["ids"] else []),
            "categories": q["categories"],
            "status": q["statuses"],
            "received_from": _iso(q["received_from"]),
            "received_until": _iso(q["received_to"]),
            "limit": q["limit"],
        }
        page = self.complaints.search(district, query, viewer)
        full = viewer["role"] in SUBSTANCE
        items = [open311.to_request(v, full) for v in page["items"]]
        return _reply(items, fmt, "service_requests")

    @route("GET", "/open311/v2/services/<string:tail>")
    def open311_service(self, request, tail):
        code, fmt = _format(tail)
        self._district(request)
        return _reply(open311.service_definition(code), fmt, "service_definition")

    @route("GET", "/open311/v2/requests/<string:tail>")
    def open311_request(self, request, tail):
        complaint_id, fmt = _format(tail)
        district = self._district(request)
        if not COMPLAINT_ID.fullmatch(complaint_id):
            raise open311.Open311Error(404, f"no request {complaint_id[:40]!r}")
        viewer = self._viewer(request, district)
        page = self.complaints.search(
            district, {"ids": [complaint_id], "limit": 1}, viewer
        )
        if not page["items"]:
            raise open311.Open311Error(404, f"no request {complaint_id}")
        full = viewer["role"] in SUBSTANCE
        return _reply(
            [open311.to_request(page["items"][0], full)], fmt, "service_requests"
        )

    @route("GET", "/open311/v2/tokens/<string:tail>")
    def open311_token(self, request, tail):
        token, fmt = _format(tail)
        district = self._district(request)
        try:
            tracked = self.complaints.track(token)
        except RemoteError as exc:
            if exc.exc_type != "NotFound":
                raise
            tracked = {"district": None}
        # A code of another district is answered as a code of none: one message;
        # so is a sealed complaint's (no district: sealed.md), in every jurisdiction.
        if tracked.get("district") != district:
            raise open311.Open311Error(404, "no request has this token")
        return _reply(
            open311.token_response(token, tracked["complaint_id"]),
            fmt,
            "service_requests",
        )

    @route("POST", "/open311/v2/<string:tail>")
    def open311_post(self, request, tail):
        resource, fmt = _format(tail)
        if resource != "requests":
            raise open311.Open311Error(404, f"no resource {resource!r} to post to")
        key = request.form.get("api_key")
        if not key:
            raise open311.Open311Error(403, "api_key was not provided")
        who = self._api_key(request, key)
        if who.role not in RECEIVE:
            raise open311.Open311Error(403, f"role {who.role} may not post requests")
        body = open311.parse_request(request.form, who.district)
        made = self.complaints.receive(who.district, who.actor(), body)
        reply = open311.post_response(
            made["id"], made["query_code"], request.form.get("account_id")
        )
        return _reply(reply, fmt, "service_requests")

    @route("GET,POST,PUT,PATCH,DELETE,OPTIONS", "/open311/v2/<path:rest>")
    def open311_nothing(self, request, rest):
        raise open311.Open311Error(404, f"no resource {rest[:80]!r}")


def _iso(value):
    return value.isoformat() if value is not None else None
