"""`make up`'s demo tokens: one working bearer token per role in the demo district.

Tokens are issued once and kept in `.liuhen/demo-tokens.json` (git-ignored, mode
600) so that restarting the platform neither floods the log with TokenIssued events
nor invalidates what a developer has pasted into their HTTP client.
"""

import json
import os
from pathlib import Path

import psycopg

from contracts.vocabulary import ROLES
from eventlog.store import EventStore
from services.gateway.auth import AuthError, authenticate, issue

DEMO_DISTRICT = "binhai"
DEMO_UNIT = "approvals"  # the unit whose handler the demo token acts for


def demo_tokens(conninfo: str, path: Path) -> dict[str, str]:
    """role -> token, valid now; issues the missing ones."""
    kept = json.loads(path.read_text()) if path.exists() else {}
    tokens = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for role in ROLES:
            token = kept.get(role)
            try:
                if token and authenticate(conn, f"Bearer {token}").role == role:
                    tokens[role] = token
                    continue
            except AuthError:
                pass
            unit = DEMO_UNIT if role == "unit_handler" else None
            tokens[role] = issue(
                EventStore(conn),
                DEMO_DISTRICT,
                role,
                unit=unit,
                subject=f"demo-{role}",
                by="liuhen up",
            )[1]
    path.parent.mkdir(exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(tokens, indent=2))
    os.chmod(path, 0o600)
    return tokens
