"""Random ids and codes people read and type: Crockford's base32 (no I, L, O, U)."""

import secrets
from datetime import datetime

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_code(length: int) -> str:
    return "".join(secrets.choice(CROCKFORD) for _ in range(length))


def random_id(prefix: str, now: datetime) -> str:
    """`C-2026-7K3M9QXA`: random, so ids say nothing about volumes or districts
    (40 bits: a collision is retried by whoever appends the new stream)."""
    return f"{prefix}-{now.year}-{random_code(8)}"
