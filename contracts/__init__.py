from . import (  # noqa: F401
    accountability,
    assessment,
    complaints,
    directory,
    gateway,
    issues,
    notify,
    webhooks,
)
