"""/v1/events (the catch-up feed) and /v1/asyncapi.json (the live feed's contract).

The feed is what an integrator reads before, or instead of, its AMQP queue: the
token's district's committed events in the relay's order, as the relay's envelopes
(docs/integrators.md). The district is the token's, never the request's. The AsyncAPI
document describes `liuhen.events`; it is documentation and needs no token.
"""

from functools import cache

from contracts import asyncapi
from contracts import feed as schemas
from contracts.envelope import EnvelopeSchema

from . import policy
from .openapi import _json, _responses
from .web import api, json_response, query_args

# Those who follow the log: integrators, and those who oversee the district.
READERS = frozenset({"integrator", "inspector", "admin", "city"})
QUERY = schemas.FeedQuery()
# Built once per process: the registry does not change after import (23 ms a build).
ASYNCAPI = cache(asyncapi.document)


class FeedRoutes:
    @api("GET", "/v1/events")
    def event_feed(self, request):
        who = self.principal(request)
        policy.require(who, READERS, "read the event feed")
        query = query_args(request, QUERY)
        found = self.audit.events(who.district, query["after"], query["limit"])
        return json_response(found)

    @api("GET", "/v1/asyncapi.json")
    def asyncapi_document(self, request):
        return json_response(ASYNCAPI())


def openapi_paths(spec) -> None:
    """Adds this module's paths to the gateway's OpenAPI document."""
    if "Envelope" not in spec.components.schemas:
        spec.components.schema("Envelope", schema=EnvelopeSchema)
    spec.components.schema("FeedPage", schema=schemas.FeedPage)
    responses = _responses("200", "FeedPage", "401", "403", "422")
    responses["422"]["description"] = (
        "invalid or unknown parameters, or `after` is not the position of an event "
        "of the token's district (code unknown_position)"
    )
    spec.path(
        "/v1/events",
        operations={
            "get": {
                "summary": "The catch-up feed: the district's events after a position",
                "description": "Committed events of the token's district in the "
                "order the relay publishes them on AMQP, as the same envelopes. "
                "Start with after=0, then pass each page's `after` until `more` is "
                "false. Positions are stable but not in commit order: never compare "
                "them, always resume with the `after` of the last page "
                "(docs/integrators.md).",
                "tags": ["integrators"],
                "parameters": [{"in": "query", "schema": schemas.FeedQuery}],
                "responses": responses,
            }
        },
    )
    spec.path(
        "/v1/asyncapi.json",
        operations={
            "get": {
                "summary": "The AsyncAPI document of the live feed (liuhen.events)",
                "tags": ["integrators"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "AsyncAPI 3.0 document",
                        "content": _json({"type": "object"}),
                    }
                },
            }
        },
    )
