"""/v1/audit: case timelines, streams at a time, verification, dossiers.
(Skeleton.)"""


class AuditRoutes:
    pass


def openapi_paths(spec) -> None:
    """Adds this module's paths to the gateway's OpenAPI document."""
