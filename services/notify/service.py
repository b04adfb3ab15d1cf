"""notify: tells people (email, SMS, inbox) and integrators (webhooks) of every step."""

from eventlog.providers import Clock, Logger, Store

# The mixin by its module: `nameko run` would take a class imported into this module
# for a second service of its own.
from . import webhooks_service


class Notify(webhooks_service.WebhookEntrypoints):
    name = "notify"
    store = Store()
    clock = Clock()
    log = Logger()
