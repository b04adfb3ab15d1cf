"""Unit assessment (考核): the public event payloads and HTTP bodies (issue 5)."""
