"""The gateway's OpenAPI 3 document, generated with apispec from contracts' schemas.

Bodies and responses are the marshmallow schemas the gateway loads and the services
return; each action's body is the very schema `POST /v1/complaints/{id}/<action>`
loads. tests/integration/test_openapi.py checks that the document validates and that
every route the gateway serves is in it.
"""

from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from contracts import complaints as s

ERRORS = {
    "401": "no valid bearer token",
    "403": "the token's role may not do this",
    "404": "not found in the token's district (or not visible to its unit)",
    "409": "not allowed in the complaint's current state",
    "422": "invalid fields; details name them",
}


def _responses(ok_status: str, ok_schema, *errors: str) -> dict:
    out = {ok_status: {"description": "OK", "content": _json(ok_schema)}}
    for code in errors:
        out[code] = {"description": ERRORS[code], "content": _json("Error")}
    return out


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
                "responses": _responses("201", "Received", "401", "403", "422"),
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
                    "requestBody": {"content": _json(body)},
                    "responses": _responses(
                        "200", "ComplaintView", "401", "403", "404", "409", "422"
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
                "responses": _responses("200", "UnitStats", "401"),
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
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name in (
        "NewComplaint",
        "ComplaintView",
        "ComplaintPage",
        "Received",
        "Tracked",
        "UnitStats",
        "Error",
        "Health",
    ):
        spec.components.schema(name, schema=getattr(s, name))
    _complaint_paths(spec)
    _other_paths(spec)
    return spec.to_dict()
