"""/v1/audit: a case's full history, a stream as it stood, the integrity report, and
a case's printable dossier.

For inspectors: the history shows reasons and every recorded field but what
identifies a complainant. Verification is also for administrators and the city. The
district comes from the token; another district's case is not found.
"""

from urllib.parse import quote

from werkzeug.wrappers import Response

from contracts import audit as schemas

from . import policy
from .openapi import operation
from .web import ApiError, api, checked_id, json_response, query_args

# A history shows every reason intake wrote, which complaint views show to intake and
# inspection only; the city and administrators verify the log, they do not read it.
AUDITORS = frozenset({"inspector"})
VERIFIERS = AUDITORS | {"admin", "city"}
CASE = schemas.CaseQuery()
STREAM = schemas.StreamQuery()
VERIFY = schemas.VerifyQuery()
TAGS = ["audit"]


def _at(query: dict) -> str | None:
    return query["at"].isoformat() if "at" in query else None


class AuditRoutes:
    @api("GET", "/v1/audit/cases/<string:ref>")
    def audit_case(self, request, ref):
        who = self.principal(request)
        policy.require(who, AUDITORS, "read a case's audit history")
        ref = checked_id(schemas.CASE_REF, ref, "case")
        at = _at(query_args(request, CASE))
        return json_response(self.audit.case(who.district, ref, at))

    @api("GET", "/v1/audit/cases/<string:ref>/dossier")
    def audit_dossier(self, request, ref):
        who = self.principal(request)
        policy.require(who, AUDITORS, "export a case's dossier")
        ref = checked_id(schemas.CASE_REF, ref, "case")
        at = _at(query_args(request, CASE))
        html = self.audit.dossier(who.district, ref, at)
        name = quote(f"dossier-{ref}.html")
        return Response(
            html,
            mimetype="text/html",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
        )

    @api("GET", "/v1/audit/streams/<string:stream_id>")
    def audit_stream(self, request, stream_id):
        who = self.principal(request)
        policy.require(who, AUDITORS, "read a stream's audit history")
        stream_id = checked_id(schemas.STREAM, stream_id, "stream")
        query = query_args(request, STREAM)
        found = self.audit.stream(
            who.district, stream_id, _at(query), query.get("version")
        )
        return json_response(found)

    @api("GET", "/v1/audit/verify")
    def audit_verify(self, request):
        who = self.principal(request)
        policy.require(who, VERIFIERS, "verify the event log")
        district = query_args(request, VERIFY).get("district", who.district)
        if district != who.district:
            raise ApiError(
                403, "forbidden", f"this token may verify district {who.district} only"
            )
        return json_response(self.audit.verify(district))


def openapi_paths(spec) -> None:
    """Adds this module's paths to the gateway's OpenAPI document."""
    for name in ("TimelineView", "StreamStateView", "VerifyReport"):
        spec.components.schema(name, schema=getattr(schemas, name))
    ref = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"}}
    stream = {**ref, "name": "stream_id"}
    case_query = {"in": "query", "schema": schemas.CaseQuery}
    spec.path(
        "/v1/audit/cases/{ref}",
        operations={
            "get": _op(
                "A case's full history across services: every event with its actor,"
                " reason, summary, changes, causation and hash check",
                "TimelineView",
                "403",
                "404",
                "422",
                params=[ref, case_query],
            )
        },
    )
    dossier = _op(
        "The case's dossier, a printable HTML file", None, "403", "404", "422"
    )
    dossier["parameters"] = [ref, case_query]
    dossier["responses"]["200"] = {
        "description": "HTML to print or file",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
    spec.path("/v1/audit/cases/{ref}/dossier", operations={"get": dossier})
    spec.path(
        "/v1/audit/streams/{stream_id}",
        operations={
            "get": _op(
                "A stream as it stood at a time or version",
                "StreamStateView",
                "403",
                "404",
                "422",
                params=[stream, {"in": "query", "schema": schemas.StreamQuery}],
            )
        },
    )
    spec.path(
        "/v1/audit/verify",
        operations={
            "get": _op(
                "Verify the district's hash chains and signed digests"
                " (as `liuhen verify --district D --json`)",
                "VerifyReport",
                "403",
                "422",
                params=[{"in": "query", "schema": schemas.VerifyQuery}],
            )
        },
    )


def _op(summary, ok, *errors, params=()) -> dict:
    return operation(summary, ok or "Error", *errors, tags=TAGS, params=params)
