"""/v1/events (the catch-up feed) and /v1/asyncapi.json (the live feed's contract).
(Skeleton: filled in by the feed work.)"""


class FeedRoutes:
    pass


def openapi_paths(spec) -> None:
    """Adds this module's paths to the gateway's OpenAPI document."""
