"""Signing secrets at rest: sealed with AES-256-GCM under the operator's key.

The trade-off: a bearer token is checked against a hash, but a webhook is *signed*
with its secret, so the sender must be able to read it back. It is kept out of the
event log (forever, read by inspectors, replayed) and sealed in its own table under
LIUHEN_WEBHOOK_KEY (32 bytes, base64), which lives in the deployment's secrets, not in
the database: a copy of the database alone does not let anyone forge our webhooks.
The subscription id is the associated data, so a sealed secret moved to another
subscription's row does not open. It is shown to the admin once, when made.

Without a key (a laptop's `make up`), secrets are stored unsealed (`plain:`) and the
service says so at start; a key set later still reads them, and seals new ones.
"""

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED, PLAIN = "aesgcm:", "plain:"


class SecretUnavailable(Exception):
    """A sealed secret with no key, the wrong key, or a tampered row."""


def parse_key(text: str | None) -> bytes | None:
    if not text:
        return None
    try:
        key = base64.b64decode(text, validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise ValueError(
            "LIUHEN_WEBHOOK_KEY must be 32 bytes in base64 (44 characters)"
        )
    return key


class Sealer:
    def __init__(self, key: bytes | None):
        self.aead = AESGCM(key) if key else None

    @property
    def sealing(self) -> bool:
        return self.aead is not None

    def seal(self, subscription_id: str, secret: str) -> str:
        if self.aead is None:
            return PLAIN + secret
        nonce = os.urandom(12)  # random 96-bit nonces: safe far beyond our counts
        box = self.aead.encrypt(nonce, secret.encode(), subscription_id.encode())
        return SEALED + base64.b64encode(nonce + box).decode("ascii")

    def open(self, subscription_id: str, stored: str) -> str:
        if stored.startswith(PLAIN):
            return stored[len(PLAIN) :]
        if self.aead is None:
            raise SecretUnavailable(
                f"the secret of webhook {subscription_id} is sealed; set "
                "LIUHEN_WEBHOOK_KEY"
            )
        raw = base64.b64decode(stored[len(SEALED) :])
        try:
            plain = self.aead.decrypt(raw[:12], raw[12:], subscription_id.encode())
        except InvalidTag:
            raise SecretUnavailable(
                f"the secret of webhook {subscription_id} does not open with "
                "LIUHEN_WEBHOOK_KEY (another key, or the row was altered)"
            ) from None
        return plain.decode()
