"""Webhooks for integrators: the public event payloads and HTTP bodies (issue 6)."""
