"""The gateway's OpenAPI 3 document, generated with apispec from contracts' schemas.

Bodies and responses are the marshmallow schemas the gateway loads and the services
return; each action's body is the very schema `POST /v1/complaints/{id}/<action>`
loads. tests/e2e/test_gateway.py checks that the document validates and that
every route the gateway serves is in it.
"""

import re
from functools import cache
from importlib import import_module

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from contracts import complaints as s
from contracts import issues as i

_ECMA_Z = re.compile(r"(?<!\\)\\Z")  # `\Z`, not an escaped backslash before Z
_NAMED = re.compile(r"\(\?P<\w+>")  # `(?P<name>`

ERRORS = {
    "400": "the body is not JSON",
    "413": "the body is over 1 MiB",
    "415": "the body is not application/json",
    "401": "no valid bearer token (none, unknown, expired or revoked: the message "
    "says which)",
    "429": "too many failed authentications from this address; see Retry-After",
    "403": "the token's role may not do this, or X-Liuhen-District names another "
    "district than the (non-city) token's own",
    "404": "not found in the token's district (or not visible to its unit)",
    "409": "not allowed in the complaint's current state",
    "422": "invalid fields (details name them), or a city token's "
    "X-Liuhen-District is missing or names no district of the directory",
}
# What tokens_routes.principal may answer before any route runs, so every operation
# that needs a token can answer it: 401 (no valid token), 403 (X-Liuhen-District
# naming another district), 422 (a city token's header missing or unknown), 429
# (throttled). Added to every secured operation by `document()`, not remembered
# route by route (which is how most came to lack them).
AUTH_ANSWERS = ("401", "403", "422", "429")
ERROR = {"$ref": "#/components/schemas/Error"}
RETRY_AFTER = {
    "description": "seconds until the address may try again",
    "schema": {"type": "integer", "minimum": 1},
}


def _error(code: str) -> dict:
    # A reference, not the name: `_auth_answers` adds these after apispec resolved
    # names, and apispec keeps a reference as it is.
    out = {"description": ERRORS[code], "content": _json(ERROR)}
    if code == "429":
        out["headers"] = {"Retry-After": RETRY_AFTER}
    return out


# The modules whose routes the Gateway class mixes in, each with its openapi_paths.
ROUTE_MODULES = (
    "accountability_routes",
    "assessment_routes",
    "audit_routes",
    "complainant_routes",
    "feed_routes",
    "notify_routes",
    "tokens_routes",
    "webhooks_routes",
)


def _responses(ok_status: str, ok_schema, *errors: str) -> dict:
    out = {ok_status: {"description": "OK", "content": _json(ok_schema)}}
    for code in errors:
        out[code] = _error(code)
    return out


def operation(summary, ok, *errors, tags, params=(), body=None, status="200") -> dict:
    """One operation of a route module: its answer `ok` (a schema name) with
    `status`, 401 and `errors`, a JSON body schema if it takes one."""
    out = {"summary": summary, "tags": tags, "parameters": list(params)}
    if body is not None:
        out["requestBody"] = {"required": True, "content": _json(body)}
    out["responses"] = _responses(status, ok, "401", *errors)
    return out


def _auth_answers(doc: dict) -> dict:
    """Every operation under the bearer scheme (not opting out with `security: []`)
    documents AUTH_ANSWERS; what a route already says of one is kept."""
    for ops in doc["paths"].values():
        for op in ops.values():
            if isinstance(op, dict) and "responses" in op and op.get("security") != []:
                for code in AUTH_ANSWERS:
                    op["responses"].setdefault(code, _error(code))
    return doc


def _json(schema) -> dict:
    return {"application/json": {"schema": schema}}


def _param(name, where="path", schema=None, description=None) -> dict:
    p = {"name": name, "in": where, "required": where == "path"}
    p["schema"] = schema or {"type": "string"}
    if description:
        p["description"] = description
    return p


def _complaint_paths(spec: APISpec) -> None:
    spec.path(
        "/v1/complaints",
        operations={
            "post": {
                "summary": "Register a complaint from any channel",
                "requestBody": {"required": True, "content": _json("NewComplaint")},
                "responses": {
                    **_responses(
                        "201", "Received", "400", "401", "403", "413", "415", "422"
                    ),
                    "202": {
                        "description": "sealed: about a principal leader of the "
                        "district, recorded at the level above",
                        "content": _json("Sealed"),
                    },
                },
            },
            "get": {
                "summary": "Complaints of the token's district, newest first, paged",
                "parameters": [{"in": "query", "schema": s.ListQuery}],
                "responses": _responses("200", "ComplaintPage", "401", "422"),
            },
        },
    )
    spec.path(
        "/v1/complaints/{complaint_id}",
        operations={
            "get": {
                "summary": "One complaint, with its history",
                "parameters": [_param("complaint_id")],
                "responses": _responses("200", "ComplaintView", "401", "404"),
            }
        },
    )
    for action, body in s.ACTIONS.items():
        spec.path(
            f"/v1/complaints/{{complaint_id}}/{action}",
            operations={
                "post": {
                    "summary": f"{action.replace('_', ' ').capitalize()} a complaint",
                    "parameters": [_param("complaint_id")],
                    "requestBody": {
                        "required": any(f.required for f in body().fields.values()),
                        "content": _json(body),
                    },
                    "responses": _responses(
                        "200",
                        "ComplaintView",
                        *("400", "401", "403", "404", "409", "413", "415", "422"),
                    ),
                }
            },
        )


def _other_paths(spec: APISpec) -> None:
    spec.path(
        "/v1/track/{code}",
        operations={
            "get": {
                "summary": "Follow an anonymous complaint by its query code (no token)",
                "security": [],
                "parameters": [_param("code")],
                "responses": _responses("200", "Tracked", "404"),
            }
        },
    )
    spec.path(
        "/v1/units/stats",
        operations={
            "get": {
                "summary": "Per unit: complaints, overdue, on time, satisfied, returns",
                "responses": _responses("200", "UnitStats", "401", "403"),
            }
        },
    )
    spec.path(
        "/v1/health",
        operations={"get": {"security": [], "responses": _responses("200", "Health")}},
    )
    spec.path(
        "/v1/openapi.json",
        operations={
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.0 document"}},
            }
        },
    )


def _issue_paths(spec: APISpec) -> None:
    def op(summary, ok, *errors, body=None, params=(), status="200"):
        out = {"summary": summary, "tags": ["campaigns and issues"]}
        out["parameters"] = list(params)
        if body is not None:
            out["requestBody"] = {"required": True, "content": _json(body)}
            errors = (*errors, "400", "413", "415")  # load_json's refusals
        out["responses"] = _responses(status, ok, "401", *errors)
        return out

    cid, iid = _param("campaign_id"), _param("issue_id")
    spec.path(
        "/v1/campaigns",
        operations={
            "post": op(
                "Launch a campaign with its phases",
                "CampaignView",
                "403",
                "422",
                body="NewCampaign",
                status="201",
            ),
            "get": op("The district's campaigns", "CampaignList"),
        },
    )
    spec.path(
        "/v1/campaigns/{campaign_id}",
        operations={"get": op("One campaign", "CampaignView", "404", params=[cid])},
    )
    file = {"description": "the ledger: .xlsx (附件1-3 sheets) or CSV (one list)"}
    ledger = op(
        "The ledger (台账) of a campaign or unit",
        "CampaignView",
        "403",
        "404",
        "422",
        params=[cid, {"in": "query", "schema": i.LedgerQuery}],
    )
    ledger["responses"]["200"] = file
    spec.path("/v1/campaigns/{campaign_id}/ledger", operations={"get": ledger})
    summary = op(
        "The period summary: counts by state per unit",
        "Summary",
        "403",
        "404",
        "422",
        params=[cid, {"in": "query", "schema": i.SummaryQuery}],
    )
    csv = {"schema": {"type": "string"}}  # format=csv
    summary["responses"]["200"]["content"]["text/csv"] = csv
    spec.path("/v1/campaigns/{campaign_id}/summary", operations={"get": summary})
    spec.path(
        "/v1/issues",
        operations={
            "post": op(
                "Register an issue on one of the three lists",
                "IssueView",
                "403",
                "404",
                "422",
                body="NewIssue",
                status="201",
            ),
            "get": op(
                "Issues, newest first, paged",
                "IssuePage",
                "422",
                params=[{"in": "query", "schema": i.IssueQuery}],
            ),
        },
    )
    spec.path(
        "/v1/issues/{issue_id}",
        operations={
            "get": op("One issue with its history", "IssueView", "404", params=[iid])
        },
    )
    for action, body in i.ACTIONS.items():
        spec.path(
            f"/v1/issues/{{issue_id}}/{action}",
            operations={
                "post": op(
                    f"{action.replace('_', ' ').capitalize()} an issue",
                    "IssueView",
                    "403",
                    "404",
                    "409",
                    "422",
                    body=body,
                    params=[iid],
                )
            },
        )


OPEN311 = {
    "/open311/v2/services.{format}": "The services: one per misconduct category",
    "/open311/v2/services/{service_code}.{format}": "A service's definition",
    "/open311/v2/requests.{format}": "Service requests (GET: list; POST: submit)",
    "/open311/v2/requests/{service_request_id}.{format}": "One service request",
    "/open311/v2/tokens/{token}.{format}": "The request a token stands for",
}


def _open311_paths(spec: APISpec) -> None:
    """Listed so that every route is in one document; the formats, fields and
    errors are the GeoReport v2 specification's (wiki.open311.org/GeoReport_v2)."""
    for path, summary in OPEN311.items():
        names = [n.split("}")[0] for n in path.replace(".", "/").split("{")[1:]]
        params = [
            _param(n, schema={"type": "string", "enum": ["json", "xml"]})
            if n == "format"
            else _param(n)
            for n in names
        ]
        params.append(_param("jurisdiction_id", "query", description="the district"))
        ok = {"description": "JSON or XML as GeoReport v2 specifies"}
        errors = {"description": "an Open311 error list"}
        operation = {
            "summary": summary,
            "tags": ["Open311 GeoReport v2"],
            "security": [],
            "parameters": params,
            "responses": {"200": ok, "400": errors, "404": errors},
        }
        if "/requests" in path:  # an api_key may come: checked as a bearer token
            operation["responses"].update(
                {
                    "403": {
                        "description": "an Open311 error list: the api_key is not "
                        "valid (to post: missing, or of a role that may not)"
                    },
                    "429": {
                        "description": "an Open311 error list: " + ERRORS["429"],
                        "headers": {"Retry-After": RETRY_AFTER},
                    },
                }
            )
        ops = {"get": operation}
        if path == "/open311/v2/requests.{format}":
            ops["post"] = {
                **operation,
                "summary": "Submit a request (form-encoded, with api_key)",
            }
        spec.path(path, operations=ops)


@cache
def document() -> dict:
    spec = APISpec(
        title="留痕 Liuhen API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Complaints of one district, as the bearer token's role "
            'may see them. Errors are {"error": {"code", "message", '
            '"details"}}. Open311 GeoReport v2 is served at /open311/v2/.'
        },
        security=[{"bearer": []}],
    )
    spec.components.security_scheme(
        "bearer",
        {
            "type": "http",
            "scheme": "bearer",
            # services/gateway/auth.py, tokens_routes.py, throttle.py
            "description": "`Authorization: Bearer lh_<token id>_<secret>`, from "
            "`liuhen token create`. A token acts in its own district with its role, "
            "until it expires (90 days unless issued for another time) or is "
            "revoked; either is 401, the message says which. **City scope**: a "
            "token of role `city` acts in the district each request names in the "
            "header `X-Liuhen-District: <district code>` (422 if the header is "
            "missing or names no district of the directory). Any other token acts "
            "in its own district only: a request of one whose X-Liuhen-District "
            "names another district gets 403. After LIUHEN_AUTH_FAILURES failed "
            "authentications (default 10) from one client address within "
            "LIUHEN_AUTH_WINDOW seconds (default 60), that address gets 429 with "
            "Retry-After until the oldest failure is out of the window.",
        },
    )
    for name in (
        "NewComplaint",
        "ComplaintView",
        "ComplaintPage",
        "Received",
        "Sealed",
        "Tracked",
        "UnitStats",
        "Error",
        "Health",
    ):
        spec.components.schema(name, schema=getattr(s, name))
    _complaint_paths(spec)
    _other_paths(spec)
    _open311_paths(spec)
    for name in (
        "NewCampaign",
        "CampaignView",
        "CampaignList",
        "NewIssue",
        "IssueView",
        "IssuePage",
        "Summary",
    ):
        spec.components.schema(name, schema=getattr(i, name))
    _issue_paths(spec)
    # Each route module adds its own paths (imported here: they import this module).
    for name in ROUTE_MODULES:
        import_module(f"{__package__}.{name}").openapi_paths(spec)
    return _ecma_patterns(_auth_answers(spec.to_dict()))


def _ecma_patterns(node):
    """The contracts' patterns are Python's; OpenAPI's are ECMA-262, the dialect
    clients and validators read (openapi-spec-validator with jsonschema-rs, as
    schemathesis installs it, refuses `\\Z`). Python's `\\Z` (the very end) is
    ECMA's `$` without the multiline flag, and a named group `(?P<name>` (spelt
    differently in each) is a plain group: the same language, readable by both. A
    property named "pattern" is a dict: untouched."""
    if isinstance(node, list):
        return [_ecma_patterns(v) for v in node]
    if not isinstance(node, dict):
        return node
    return {
        k: _NAMED.sub("(", _ECMA_Z.sub("$", v))
        if k == "pattern" and isinstance(v, str)
        else _ecma_patterns(v)
        for k, v in node.items()
    }
