"""/v1/clues and /v1/cases: accountability (追责问责), for the inspection and
campaign-office roles only.

Inspectors register and verify clues, file them, investigate, decide, record
appeals; the campaign office registers inspection findings, reads every case and
publishes bulletins. Same rules as elsewhere: the district comes from the token,
errors are JSON, lists are keyset-paged.
"""

from contracts import accountability as schemas

from . import policy
from .web import (
    action_body,
    api,
    checked_id,
    json_response,
    load_json,
    query_args,
)

READ = frozenset({"inspector", "campaign_office", "city"})
REGISTER = frozenset({"inspector", "campaign_office"})
INSPECTOR = frozenset({"inspector"})
CASE_ROLES = {action: INSPECTOR for action in schemas.CASE_ACTIONS}
CASE_ROLES["publish_bulletin"] = frozenset({"inspector", "campaign_office"})

NEW_CLUE = schemas.NewClue()
CLUE_QUERY = schemas.ClueQuery()
CASE_QUERY = schemas.CaseQuery()
BULLETIN_QUERY = schemas.BulletinQuery()
CLUE_BODIES = {a: s() for a, s in schemas.CLUE_ACTIONS.items()}
CASE_BODIES = {a: s() for a, s in schemas.CASE_ACTIONS.items()}


class AccountabilityRoutes:
    @api("POST", "/v1/clues")
    def register_clue(self, request):
        who = self.principal(request)
        policy.require(who, REGISTER, "register clues")
        body = load_json(request, NEW_CLUE)
        made = self.accountability.register_clue(who.district, who.actor(), body)
        status = 201 if made.pop("created") else 200
        return json_response(made, status, {"Location": f"/v1/clues/{made['id']}"})

    @api("GET", "/v1/clues")
    def list_clues(self, request):
        who = self.principal(request)
        policy.require(who, READ, "read clues")
        query = query_args(request, CLUE_QUERY, lists=("status",))
        return json_response(self.accountability.clues(who.district, query))

    @api("GET", "/v1/clues/<string:clue_id>")
    def get_clue(self, request, clue_id):
        who = self.principal(request)
        policy.require(who, READ, "read clues")
        checked_id(schemas.CLUE_ID, clue_id, "clue")
        return json_response(self.accountability.clue(who.district, clue_id))

    @api("POST", "/v1/clues/<string:clue_id>/<string:action>")
    def act_on_clue(self, request, clue_id, action):
        who = self.principal(request)
        checked_id(schemas.CLUE_ID, clue_id, "clue")
        schema = action_body(CLUE_BODIES, action, "clues")
        policy.require(who, INSPECTOR, action + " clues")
        body = load_json(request, schema)
        view = self.accountability.act_on_clue(
            who.district, who.actor(), clue_id, action, body
        )
        return json_response(view)

    @api("GET", "/v1/cases")
    def list_cases(self, request):
        who = self.principal(request)
        policy.require(who, READ, "read cases")
        query = query_args(request, CASE_QUERY, lists=("status",))
        return json_response(self.accountability.cases(who.district, query))

    @api("GET", "/v1/cases/bulletins")
    def list_bulletins(self, request):
        who = self.principal(request)
        policy.require(who, READ, "read bulletins")
        query = query_args(request, BULLETIN_QUERY)
        return json_response(
            self.accountability.bulletins(who.district, query.get("period"))
        )

    @api("GET", "/v1/cases/<string:case_id>")
    def get_case(self, request, case_id):
        who = self.principal(request)
        policy.require(who, READ, "read cases")
        checked_id(schemas.CASE_ID, case_id, "case")
        return json_response(self.accountability.case(who.district, case_id))

    @api("POST", "/v1/cases/<string:case_id>/<string:action>")
    def act_on_case(self, request, case_id, action):
        who = self.principal(request)
        checked_id(schemas.CASE_ID, case_id, "case")
        schema = action_body(CASE_BODIES, action, "cases")
        policy.require(who, CASE_ROLES[action], action.replace("_", " "))
        body = load_json(request, schema)
        view = self.accountability.act_on_case(
            who.district, who.actor(), case_id, action, body
        )
        return json_response(view)


def openapi_paths(spec) -> None:
    """Adds this module's paths to the gateway's OpenAPI document."""
    from .openapi import _json, _param, operation

    for name in (
        "NewClue",
        "ClueView",
        "CluePage",
        "CaseView",
        "CasePage",
        "BulletinList",
    ):
        spec.components.schema(name, schema=getattr(schemas, name))
    tag = ["Accountability"]

    def op(summary, ok, *errors, **kw):
        return operation(summary, ok, "403", *errors, tags=tag, **kw)

    register = op(
        "Register a clue by hand (201), or add a ground to the clue its "
        "complaint or issue has already (200)",
        "ClueView",
        "400",
        "413",
        "415",
        "422",
        body="NewClue",
        status="201",
    )
    register["responses"]["200"] = {
        "description": "a ground added to the clue its complaint or issue has",
        "content": _json("ClueView"),
    }
    spec.path(
        "/v1/clues",
        operations={
            "post": register,
            "get": op(
                "Clues, newest first, paged",
                "CluePage",
                "422",
                params=[{"in": "query", "schema": schemas.ClueQuery}],
            ),
        },
    )
    spec.path(
        "/v1/clues/{clue_id}",
        operations={
            "get": op(
                "One clue, with its history",
                "ClueView",
                "404",
                params=[_param("clue_id")],
            )
        },
    )
    spec.path(
        "/v1/cases",
        operations={
            "get": op(
                "Cases, newest first, paged",
                "CasePage",
                "422",
                params=[{"in": "query", "schema": schemas.CaseQuery}],
            )
        },
    )
    spec.path(
        "/v1/cases/bulletins",
        operations={
            "get": op(
                "Bulletins (通报) published in a period",
                "BulletinList",
                "422",
                params=[{"in": "query", "schema": schemas.BulletinQuery}],
            )
        },
    )
    spec.path(
        "/v1/cases/{case_id}",
        operations={
            "get": op(
                "One case, with its links and history",
                "CaseView",
                "404",
                params=[_param("case_id")],
            )
        },
    )
    for noun, actions in (
        ("clue", schemas.CLUE_ACTIONS),
        ("case", schemas.CASE_ACTIONS),
    ):
        for action, body in actions.items():
            spec.path(
                f"/v1/{noun}s/{{{noun}_id}}/{action}",
                operations={
                    "post": op(
                        action.replace("_", " ").capitalize(),
                        f"{noun.capitalize()}View",
                        "400",
                        "404",
                        "409",
                        "413",
                        "415",
                        "422",
                        body=body,
                        params=[_param(f"{noun}_id")],
                    )
                },
            )
