"""/v1/complaints/{id}/complainant: who complained, read on record.

The complaint view tells intake and inspection whether there is an identity, which
fields were given and whether it was erased; the identity itself comes only from
here, for those two roles, with a reason. The complaints service records every such
read (ComplainantIdentityRead: who, when, why) before it answers, so a read that is
not on record never happened. An erased identity answers 410.
"""

from contracts import complaints as schemas

from . import policy
from .openapi import _json, _param, _responses
from .web import api, checked_id, json_response, query_args

READERS = frozenset({"intake", "inspector"})
QUERY = schemas.IdentityQuery()


class ComplainantRoutes:
    @api("GET", "/v1/complaints/<string:complaint_id>/complainant")
    def complainant(self, request, complaint_id):
        who = self.principal(request)
        policy.require(who, READERS, "read who complained")
        complaint_id = checked_id(schemas.COMPLAINT_ID, complaint_id, "complaint")
        reason = query_args(request, QUERY)["reason"]
        found = self.complaints.complainant(
            who.district, complaint_id, who.actor(), reason
        )
        return json_response(found)


def openapi_paths(spec) -> None:
    """Adds this module's paths to the gateway's OpenAPI document."""
    spec.components.schema("ComplainantIdentity", schema=schemas.ComplainantIdentity)
    responses = _responses("200", "ComplainantIdentity", "401", "403", "404", "422")
    responses["410"] = {
        "description": "the identity was erased (its key destroyed)",
        "content": _json("Error"),
    }
    spec.path(
        "/v1/complaints/{complaint_id}/complainant",
        operations={
            "get": {
                "summary": "Who complained (intake, inspector); the read is recorded",
                "parameters": [
                    _param("complaint_id"),
                    {"in": "query", "schema": schemas.IdentityQuery},
                ],
                "responses": responses,
            }
        },
    )
