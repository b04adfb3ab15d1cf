"""gateway: the HTTP edge.

Owns: the `gateway` schema (bearer tokens, projected from TokenIssued events).
Listens to: HTTP on LIUHEN_HTTP (default 127.0.0.1:8000): JSON under /v1 (OpenAPI at
/v1/openapi.json) and Open311 GeoReport v2 under /open311/v2.
Emits: nothing of its own; it calls the domain services by RPC, which append.
"""

import re
from datetime import UTC

from nameko.rpc import RpcProxy

from contracts import complaints as schemas
from eventlog.providers import Database
from eventlog.transient import TRANSIENT

# The mixin by its module: `nameko run` would take a class imported into this module
# for a second service of its own.
from . import (
    accountability_routes,
    assessment_routes,
    audit_routes,
    complainant_routes,
    feed_routes,
    issues_routes,
    notify_routes,
    open311_routes,
    openapi,
    policy,
    tokens_routes,
    webhooks_routes,
)
from .web import (
    ApiError,
    action_body,
    api,
    checked_id,
    json_response,
    load_json,
    query_args,
)

TRACK_CODE = re.compile(r"^[0-9A-Za-z -]{12,20}$")
NEW = schemas.NewComplaint()
QUERY = schemas.ListQuery()
BODIES = {action: schema() for action, schema in schemas.ACTIONS.items()}


class Gateway(
    open311_routes.Open311Routes,
    issues_routes.IssuesRoutes,
    accountability_routes.AccountabilityRoutes,
    assessment_routes.AssessmentRoutes,
    notify_routes.NotifyRoutes,
    webhooks_routes.WebhooksRoutes,
    audit_routes.AuditRoutes,
    feed_routes.FeedRoutes,
    complainant_routes.ComplainantRoutes,
    tokens_routes.TokensRoutes,
):
    name = "gateway"
    db = Database()
    # transient: a complainant's identity crosses in these (eventlog/transient.py)
    complaints = RpcProxy("complaints", **TRANSIENT)
    issues = RpcProxy("issues")
    accountability = RpcProxy("accountability")
    notify = RpcProxy("notify")
    audit = RpcProxy("audit")

    def _checked_id(self, complaint_id: str) -> str:
        return checked_id(schemas.COMPLAINT_ID, complaint_id, "complaint")

    def principal(self, request):
        # The bearer token (expired or revoked: 401), the failures of the client's
        # address (429), and the district it acts in (a city token names it in
        # X-Liuhen-District): services/gateway/tokens_routes.py.
        return tokens_routes.principal(
            self.db, self.auth_failures, self.auth_log, request
        )

    @api("GET", "/v1/health")
    def health(self, request):
        head = self.db.execute("SELECT max(position) FROM eventlog.events").fetchone()
        return json_response(
            {"status": "ok", "eventlog": {"head_position": head[0] or 0}}
        )

    @api("GET", "/v1/openapi.json")
    def openapi(self, request):
        return json_response(openapi.document())

    @api("POST", "/v1/complaints")
    def receive(self, request):
        who = self.principal(request)
        policy.require(who, policy.RECEIVE, "register complaints")
        body = load_json(request, NEW)
        made = self.complaints.receive(who.district, who.actor(), body)
        if made.get("sealed"):
            # About a principal leader of this district: recorded at the level
            # above (services/complaints/sealed.py). Accepted, and nothing to find
            # here: no id, no Location.
            return json_response(made, 202)
        return json_response(made, 201, {"Location": f"/v1/complaints/{made['id']}"})

    @api("GET", "/v1/complaints")
    def search(self, request):
        who = self.principal(request)
        policy.require(who, policy.READ, "read complaints")
        query = query_args(request, QUERY, lists=("status",))
        for key in ("received_from", "received_to"):
            if key in query:
                # In UTC: PostgreSQL refuses offsets beyond 15:59, Python does not.
                query[key] = query[key].astimezone(UTC).isoformat()
        return json_response(self.complaints.search(who.district, query, who.actor()))

    @api("GET", "/v1/complaints/<string:complaint_id>")
    def get(self, request, complaint_id):
        who = self.principal(request)
        policy.require(who, policy.READ, "read complaints")
        complaint_id = self._checked_id(complaint_id)
        return json_response(
            self.complaints.get(who.district, complaint_id, who.actor())
        )

    @api("POST", "/v1/complaints/<string:complaint_id>/<string:action>")
    def act(self, request, complaint_id, action):
        who = self.principal(request)
        complaint_id = self._checked_id(complaint_id)
        body = load_json(request, action_body(BODIES, action, "complaints"))
        policy.require_action(who, action, body)
        # A unit handler must not learn that another unit's complaint exists: the
        # read answers 404 for anything not dispatched to its unit.
        self.complaints.get(who.district, complaint_id, who.actor())
        view = self.complaints.act(
            who.district, who.actor(), complaint_id, action, body
        )
        return json_response(view)

    @api("GET", "/v1/track/<string:code>")
    def track(self, request, code):
        if not TRACK_CODE.fullmatch(code):
            raise ApiError(404, "not_found", "no complaint has this query code")
        return json_response(self.complaints.track(code))

    @api("GET", "/v1/units/stats")
    def unit_stats(self, request):
        who = self.principal(request)
        policy.require(who, policy.STATS, "read every unit's figures")
        return json_response({"units": self.complaints.unit_stats(who.district)})

    @api("GET,POST,PUT,PATCH,DELETE,OPTIONS", "/v1/<path:rest>")
    def no_route(self, request, rest):
        raise ApiError(404, "not_found", f"no route {request.method} /v1/{rest}")

    @api("GET,POST,PUT,PATCH,DELETE,OPTIONS", "/v1/")
    def no_root(self, request):
        raise ApiError(404, "not_found", "no route here; see /v1/openapi.json")
