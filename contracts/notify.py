"""Notifications and webhooks: the public event payloads and HTTP bodies (issue 6)."""
