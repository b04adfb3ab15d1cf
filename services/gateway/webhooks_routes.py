"""/v1/webhooks: an admin manages the district's webhook subscriptions, reads their
deliveries and re-sends dead-lettered ones.

Admin only, integrators included out: the role does not tell integrators apart (every
integrator token of a district is the same role), so an integrator listing
subscriptions would see the other integrators' endpoints. The admin creates the
subscription and hands its secret, shown once, to the integrator. Another district's
subscription or delivery is 404, like anything of another district.
"""

from werkzeug.wrappers import Response

from contracts import webhooks as schemas

from . import policy
from .web import (
    api,
    checked_id,
    json_response,
    load_json,
    query_args,
)

NEW = schemas.NewWebhook()
CHANGE = schemas.WebhookChange()
QUERY = schemas.DeliveryQuery()
ADMIN = frozenset({"admin"})


class WebhooksRoutes:
    def _admin(self, request):
        who = self.principal(request)
        policy.require(who, ADMIN, "manage webhooks")
        return who

    @api("POST", "/v1/webhooks")
    def create_webhook(self, request):
        who = self._admin(request)
        body = load_json(request, NEW)
        made = self.notify.webhook_subscribe(who.district, who.actor(), body)
        return json_response(made, 201, {"Location": f"/v1/webhooks/{made['id']}"})

    @api("GET", "/v1/webhooks")
    def list_webhooks(self, request):
        who = self._admin(request)
        return json_response(self.notify.webhooks(who.district))

    @api("GET", "/v1/webhooks/<string:webhook_id>")
    def get_webhook(self, request, webhook_id):
        who = self._admin(request)
        checked_id(schemas.SUBSCRIPTION_ID, webhook_id, "webhook")
        return json_response(self.notify.webhook(who.district, webhook_id))

    @api("PATCH", "/v1/webhooks/<string:webhook_id>")
    def change_webhook(self, request, webhook_id):
        who = self._admin(request)
        checked_id(schemas.SUBSCRIPTION_ID, webhook_id, "webhook")
        body = load_json(request, CHANGE)
        return json_response(
            self.notify.webhook_change(who.district, who.actor(), webhook_id, body)
        )

    @api("DELETE", "/v1/webhooks/<string:webhook_id>")
    def delete_webhook(self, request, webhook_id):
        who = self._admin(request)
        checked_id(schemas.SUBSCRIPTION_ID, webhook_id, "webhook")
        self.notify.webhook_unsubscribe(who.district, who.actor(), webhook_id)
        return Response(status=204)

    @api("GET", "/v1/webhooks/<string:webhook_id>/deliveries")
    def list_deliveries(self, request, webhook_id):
        who = self._admin(request)
        checked_id(schemas.SUBSCRIPTION_ID, webhook_id, "webhook")
        query = query_args(request, QUERY)
        return json_response(
            self.notify.webhook_deliveries(who.district, webhook_id, query)
        )

    @api("GET", "/v1/webhooks/deliveries/<string:delivery_id>")
    def get_delivery(self, request, delivery_id):
        who = self._admin(request)
        checked_id(schemas.DELIVERY_ID, delivery_id, "delivery")
        return json_response(self.notify.webhook_delivery(who.district, delivery_id))

    @api("POST", "/v1/webhooks/deliveries/<string:delivery_id>/resend")
    def resend_delivery(self, request, delivery_id):
        who = self._admin(request)
        checked_id(schemas.DELIVERY_ID, delivery_id, "delivery")
        view = self.notify.webhook_resend(who.district, who.actor(), delivery_id)
        return json_response(view, 202)


def _json(schema) -> dict:
    return {"application/json": {"schema": schema}}


def _responses(status, schema, *errors) -> dict:
    from .openapi import ERRORS

    out = {status: {"description": "OK"}}
    if schema:
        out[status]["content"] = _json(schema)
    for code in ("401", "403", *errors):
        out[code] = {"description": ERRORS[code], "content": _json("Error")}
    return out


def _op(summary, status, schema, *errors, body=None, params=()) -> dict:
    op = {"summary": summary, "tags": ["webhooks"], "parameters": list(params)}
    if body is not None:
        op["requestBody"] = {"required": True, "content": _json(body)}
    op["responses"] = _responses(status, schema, *errors)
    return op


def openapi_paths(spec) -> None:
    """Adds this module's paths to the gateway's OpenAPI document."""
    for name in ("NewWebhook", "WebhookChange", "WebhookView", "WebhookList"):
        spec.components.schema(name, schema=getattr(schemas, name))
    spec.components.schema("DeliveryView", schema=schemas.DeliveryView)
    spec.components.schema("DeliveryPage", schema=schemas.DeliveryPage)
    wid = {"name": "webhook_id", "in": "path", "required": True}
    wid["schema"] = {"type": "string"}
    did = {**wid, "name": "delivery_id", "description": "the webhook-id header"}
    bad = ("400", "413", "415", "422")
    spec.path(
        "/v1/webhooks",
        operations={
            "post": _op(
                "Subscribe an endpoint; the answer holds its secret, shown once",
                "201",
                "WebhookView",
                *bad,
                body="NewWebhook",
            ),
            "get": _op("The district's webhook subscriptions", "200", "WebhookList"),
        },
    )
    spec.path(
        "/v1/webhooks/{webhook_id}",
        operations={
            "get": _op("One subscription", "200", "WebhookView", "404", params=[wid]),
            "patch": _op(
                "Change URL or filters, or rotate the secret (shown once)",
                "200",
                "WebhookView",
                "404",
                "409",
                *bad,
                body="WebhookChange",
                params=[wid],
            ),
            "delete": _op(
                "Remove the subscription; its pending deliveries are dead-lettered",
                "204",
                None,
                "404",
                "409",
                params=[wid],
            ),
        },
    )
    query = {"in": "query", "schema": schemas.DeliveryQuery}
    spec.path(
        "/v1/webhooks/{webhook_id}/deliveries",
        operations={
            "get": _op(
                "Deliveries of a subscription, newest first, paged",
                "200",
                "DeliveryPage",
                "404",
                "422",
                params=[wid, query],
            )
        },
    )
    spec.path(
        "/v1/webhooks/deliveries/{delivery_id}",
        operations={
            "get": _op(
                "One delivery with its attempts",
                "200",
                "DeliveryView",
                "404",
                params=[did],
            )
        },
    )
    spec.path(
        "/v1/webhooks/deliveries/{delivery_id}/resend",
        operations={
            "post": _op(
                "Re-send a dead-lettered delivery (409 if delivered or pending)",
                "202",
                "DeliveryView",
                "404",
                "409",
                params=[did],
            )
        },
    )
