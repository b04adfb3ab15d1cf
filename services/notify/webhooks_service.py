"""Webhook entrypoints, mixed into the notify service."""


class WebhookEntrypoints:
    pass
