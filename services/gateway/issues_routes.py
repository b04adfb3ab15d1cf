"""/v1/campaigns and /v1/issues: campaigns, their rectification lists, ledgers.

Same rules as complaints: the district comes from the token; a unit handler sees
and acts on its own unit's items (and the suggestions made to it); errors are JSON.
"""

import base64

from werkzeug.wrappers import Response

from contracts import issues as schemas

from . import policy
from .web import (
    action_body,
    api,
    checked_id,
    json_response,
    load_json,
    query_args,
)

NEW_CAMPAIGN = schemas.NewCampaign()
NEW_ISSUE = schemas.NewIssue()
ISSUE_QUERY = schemas.IssueQuery()
LEDGER_QUERY = schemas.LedgerQuery()
SUMMARY_QUERY = schemas.SummaryQuery()
BODIES = {action: schema() for action, schema in schemas.ACTIONS.items()}


def _file(result: dict) -> Response:
    return Response(
        base64.b64decode(result["content"]),
        content_type=result["content_type"],
        headers={"Content-Disposition": f'attachment; filename="{result["filename"]}"'},
    )


class IssuesRoutes:
    @api("POST", "/v1/campaigns")
    def launch_campaign(self, request):
        who = self.principal(request)
        policy.require(who, policy.CAMPAIGNS, "launch campaigns")
        body = load_json(request, NEW_CAMPAIGN)
        made = self.issues.launch_campaign(who.district, who.actor(), body)
        return json_response(made, 201, {"Location": f"/v1/campaigns/{made['id']}"})

    @api("GET", "/v1/campaigns")
    def list_campaigns(self, request):
        who = self.principal(request)
        return json_response(self.issues.campaigns(who.district))

    @api("GET", "/v1/campaigns/<string:campaign_id>")
    def get_campaign(self, request, campaign_id):
        who = self.principal(request)
        checked_id(schemas.CAMPAIGN_ID, campaign_id, "campaign")
        return json_response(self.issues.campaign(who.district, campaign_id))

    @api("GET", "/v1/campaigns/<string:campaign_id>/ledger")
    def ledger(self, request, campaign_id):
        who = self.principal(request)
        policy.require(who, policy.LEDGERS, "download ledgers")
        checked_id(schemas.CAMPAIGN_ID, campaign_id, "campaign")
        query = query_args(request, LEDGER_QUERY)
        if who.role == "unit_handler":  # a unit downloads its own ledger
            query["unit"] = who.unit
        return _file(self.issues.ledger(who.district, campaign_id, query))

    @api("GET", "/v1/campaigns/<string:campaign_id>/summary")
    def summary(self, request, campaign_id):
        who = self.principal(request)
        policy.require(who, policy.STATS, "read a campaign's summary")
        checked_id(schemas.CAMPAIGN_ID, campaign_id, "campaign")
        q = query_args(request, SUMMARY_QUERY)
        result = self.issues.summary(
            who.district, campaign_id, q.get("period"), q["format"]
        )
        return _file(result) if q["format"] == "csv" else json_response(result)

    @api("POST", "/v1/issues")
    def register_issue(self, request):
        who = self.principal(request)
        policy.require(who, policy.REGISTER_ISSUES, "register issues")
        body = load_json(request, NEW_ISSUE)
        made = self.issues.register(who.district, who.actor(), body)
        return json_response(made, 201, {"Location": f"/v1/issues/{made['id']}"})

    @api("GET", "/v1/issues")
    def search_issues(self, request):
        who = self.principal(request)
        query = query_args(request, ISSUE_QUERY, lists=("status",))
        return json_response(self.issues.search(who.district, query, who.actor()))

    @api("GET", "/v1/issues/<string:issue_id>")
    def get_issue(self, request, issue_id):
        who = self.principal(request)
        checked_id(schemas.ISSUE_ID, issue_id, "issue")
        return json_response(self.issues.get(who.district, issue_id, who.actor()))

    @api("POST", "/v1/issues/<string:issue_id>/<string:action>")
    def act_on_issue(self, request, issue_id, action):
        who = self.principal(request)
        checked_id(schemas.ISSUE_ID, issue_id, "issue")
        schema = action_body(BODIES, action, "issues")
        policy.require(who, policy.ISSUE_ACTIONS[action], action.replace("_", " "))
        body = load_json(request, schema)
        self.issues.get(who.district, issue_id, who.actor())  # 404 if not visible
        view = self.issues.act(who.district, who.actor(), issue_id, action, body)
        return json_response(view)
