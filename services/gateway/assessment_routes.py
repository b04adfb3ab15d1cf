"""Routes of the gateway, mixed into its service class."""


class AssessmentRoutes:
    pass


def openapi_paths(spec) -> None:
    """Adds this module's paths to the gateway's OpenAPI document."""
