"""/v1/inbox and /v1/notify: the in-app inbox, and a district's notification rules,
templates and campaign office people.

The inbox is the token's own: its unit's, its role's and its subject's items in its
district; another's item is not found (404). Rules, templates and the office are the
district admin's to change (each change an event); the campaign office reads them.
"""

import re

from contracts import notify as schemas

from . import policy
from .openapi import _json, _param, _responses
from .web import ApiError, api, json_response, load_json, query_args

INBOX_QUERY = schemas.InboxQuery()
RULE = schemas.RuleBody()
TEMPLATE = schemas.TemplateBody()
OFFICE = schemas.OfficeBody()
ADMIN = frozenset({"admin"})
READ_SETTINGS = frozenset({"admin", "campaign_office"})
KIND = re.compile(r"^[a-z_]{1,60}\.[a-z_]{1,20}\Z")


def _kind(kind: str) -> str:
    if not KIND.fullmatch(kind):
        raise ApiError(404, "not_found", f"no notification kind {kind[:80]!r}")
    return kind


class NotifyRoutes:
    @api("GET", "/v1/inbox")
    def inbox(self, request):
        who = self.principal(request)
        query = query_args(request, INBOX_QUERY)
        return json_response(self.notify.inbox(who.district, who.actor(), query))

    @api("POST", "/v1/inbox/<string:notification_id>/read")
    def read_inbox_item(self, request, notification_id):
        who = self.principal(request)
        if not schemas.NOTIFICATION_ID.fullmatch(notification_id):
            raise ApiError(404, "not_found", f"no inbox item {notification_id[:40]!r}")
        item = self.notify.read(who.district, who.actor(), notification_id)
        return json_response(item)

    @api("GET", "/v1/notify/rules")
    def notify_rules(self, request):
        who = self.principal(request)
        policy.require(who, READ_SETTINGS, "read notification rules")
        return json_response(self.notify.rules(who.district))

    @api("PUT", "/v1/notify/rules/<string:kind>")
    def set_notify_rule(self, request, kind):
        who = self.principal(request)
        policy.require(who, ADMIN, "change notification rules")
        body = load_json(request, RULE)
        return json_response(
            self.notify.set_rule(who.district, who.actor(), _kind(kind), body)
        )

    @api("GET", "/v1/notify/templates")
    def notify_templates(self, request):
        who = self.principal(request)
        policy.require(who, READ_SETTINGS, "read notification templates")
        return json_response(self.notify.templates(who.district))

    @api("PUT", "/v1/notify/templates/<string:kind>")
    def set_notify_template(self, request, kind):
        who = self.principal(request)
        policy.require(who, ADMIN, "change notification templates")
        body = load_json(request, TEMPLATE)
        return json_response(
            self.notify.set_template(who.district, who.actor(), _kind(kind), body)
        )

    @api("PUT", "/v1/notify/office")
    def set_notify_office(self, request):
        who = self.principal(request)
        policy.require(who, ADMIN, "name the campaign office's people")
        body = load_json(request, OFFICE)
        return json_response(self.notify.set_office(who.district, who.actor(), body))


def _op(summary, ok, *errors, body=None, params=(), status="200") -> dict:
    out = {"summary": summary, "tags": ["notifications"], "parameters": list(params)}
    if body is not None:
        out["requestBody"] = {"required": True, "content": _json(body)}
    out["responses"] = _responses(status, ok, "401", *errors)
    return out


def openapi_paths(spec) -> None:
    """Adds this module's paths to the gateway's OpenAPI document."""
    for name in (
        "InboxItem",
        "InboxPage",
        "RuleList",
        "TemplateView",
        "TemplateList",
        "OfficeView",
    ):
        spec.components.schema(name, schema=getattr(schemas, name))
    nid, kind = _param("notification_id"), _param("kind")
    body_errors = ("400", "403", "413", "415", "422")
    spec.path(
        "/v1/inbox",
        operations={
            "get": _op(
                "The token's inbox (its unit, role and person), newest first, paged",
                "InboxPage",
                "422",
                params=[{"in": "query", "schema": schemas.InboxQuery}],
            )
        },
    )
    spec.path(
        "/v1/inbox/{notification_id}/read",
        operations={
            "post": _op("Mark an inbox item read", "InboxItem", "404", params=[nid])
        },
    )
    spec.path(
        "/v1/notify/rules",
        operations={"get": _op("Who is told what, how", "RuleList", "403")},
    )
    spec.path(
        "/v1/notify/rules/{kind}",
        operations={
            "put": _op(
                "Set a notification kind's channels in the district (empty: off)",
                "RuleList",
                "404",
                *body_errors,
                body=schemas.RuleBody,
                params=[kind],
            )
        },
    )
    spec.path(
        "/v1/notify/templates",
        operations={"get": _op("The district's templates", "TemplateList", "403")},
    )
    spec.path(
        "/v1/notify/templates/{kind}",
        operations={
            "put": _op(
                "Replace a kind's template (Jinja2; refused if it does not render)",
                "TemplateView",
                "404",
                *body_errors,
                body=schemas.TemplateBody,
                params=[kind],
            )
        },
    )
    spec.path(
        "/v1/notify/office",
        operations={
            "put": _op(
                "Name the campaign office's people (directory ids)",
                "OfficeView",
                *body_errors,
                body=schemas.OfficeBody,
            )
        },
    )
