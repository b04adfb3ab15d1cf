from . import (  # noqa: F401
    accountability,
    assessment,
    audit,
    complaints,
    directory,
    gateway,
    integrators,
    issues,
    notify,
    webhooks,
)
