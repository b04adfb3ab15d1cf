from . import (  # noqa: F401
    accountability,
    complaints,
    directory,
    gateway,
    issues,
    notify,
)
