"""Standard Webhooks signatures (standardwebhooks.com, symmetric scheme) and the retry
schedule. Pure: no clock, no randomness of its own (both are passed in).

The signed content is `{webhook-id}.{webhook-timestamp}.{body}`, HMAC-SHA256 with the
secret's bytes; the header is `v1,<base64 signature>`, space-separated when several
secrets sign (rotation). Secrets are shown as `whsec_<base64>`. Written from the
specification with the standard library rather than the `standardwebhooks` package:
the scheme is ten lines, and the package brings an HTTP client stack with it.
tests/unit/test_webhook_signing.py checks the specification's own example.
"""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64


class BadSignature(ValueError):
    pass


def format_secret(raw: bytes) -> str:
    return PREFIX + base64.b64encode(raw).decode("ascii")


def secret_bytes(secret: str) -> bytes:
    """The key of `whsec_<base64>` (the prefix is optional, as in the libraries)."""
    if secret.startswith(PREFIX):
        secret = secret[len(PREFIX) :]
    return base64.b64decode(secret, validate=True)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header of one attempt."""
    if "." in msg_id:  # the specification forbids it: the parts would be ambiguous
        raise ValueError(f"webhook id {msg_id!r} contains a full stop")
    content = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_bytes(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def verify(secret: str, got: dict, body: bytes, now: int, tolerance: int = 300) -> None:
    """Raises BadSignature unless one `v1` signature in `got` (the three headers)
    matches and the timestamp is within `tolerance` seconds of `now`."""
    try:
        msg_id, stamp = got["webhook-id"], int(got["webhook-timestamp"])
        offered = got["webhook-signature"].split(" ")
    except (KeyError, ValueError) as exc:
        raise BadSignature(f"missing or malformed header: {exc}") from None
    if abs(now - stamp) > tolerance:
        raise BadSignature(f"timestamp {stamp} is too far from {now}")
    expected = sign(secret, msg_id, stamp, body).encode()
    if not any(hmac.compare_digest(expected, s.encode()) for s in offered):
        raise BadSignature("no signature matches")


def backoff(attempt: int, base: float, cap: float, jitter: float) -> float:
    """Seconds to wait after failed attempt `attempt` (1, 2, ...): base, 2 base,
    4 base, ... up to `cap`, spread by +-20% with `jitter` in [0, 1) so that the
    retries of many deliveries failed together do not all return at once."""
    delay = min(cap, base * 2 ** (attempt - 1))
    return delay * (0.8 + 0.4 * jitter)


def next_attempt_at(now: datetime, attempt: int, base, cap, jitter) -> datetime:
    return now + timedelta(seconds=backoff(attempt, base, cap, jitter))
