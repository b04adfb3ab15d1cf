"""Complainants' identities, encrypted: one data key per complainant (envelope
encryption), so that destroying one small key erases one person everywhere.

- The identity (name, phone, email, address) is sealed with AES-256-GCM under a
  data key of its own, drawn when the complaint is received. The sealed text is what
  the event log and the read model keep; the hash chain covers it as stored.
- The data key is kept apart (complaints.pii_keys), itself wrapped with AES-256-GCM
  under the master key (LIUHEN_PII_KEY, 32 bytes in base64), which lives in the
  deployment's secrets and never in the database: a copy of the database alone, or
  of the log, reads no identity.
- Erasure deletes the data key (crypto-shredding): the sealed text stays in the
  append-only log, untouched (the chain still verifies), and no key opens it again.
- The associated data binds each box to its district and complainant reference: a
  sealed identity or a wrapped key moved to another complainant's row does not open.
- The plain text is padded to a multiple of PAD bytes before sealing, so that the
  ciphertext's length does not tell a short name from a long address.

Pure: no database, no nameko. Random nonces of 96 bits: each data key seals one
identity, and the master key wraps one data key per complainant, far below the 2^32
messages per key that random GCM nonces allow.
"""

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FIELDS = ("name", "phone", "email", "address")
PREFIX = "aesgcm1:"  # the sealed text's format, should another ever follow
PAD = 64
NONCE = 12


class KeyMissing(Exception):
    """LIUHEN_PII_KEY is not set or not 32 bytes of base64."""


class Unreadable(Exception):
    """A sealed identity or wrapped key that does not open: another master key, a
    box moved to another complainant, or an altered row."""


def parse_master_key(text: str | None) -> bytes:
    if not text:
        raise KeyMissing(
            "LIUHEN_PII_KEY is not set: the complaints service keeps complainants' "
            "identities only encrypted (32 random bytes in base64: "
            'python -c "import os, base64; print(base64.b64encode(os.urandom(32)))")'
        )
    try:
        key = base64.b64decode(text, validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise KeyMissing("LIUHEN_PII_KEY must be 32 bytes in base64 (44 characters)")
    return key


def new_master_key() -> str:
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")


def master_key_id(master: bytes) -> str:
    """Names the master key a data key was wrapped with (for rotation), without
    saying anything about the key."""
    return hashlib.sha256(b"liuhen/pii-master-key\0" + master).hexdigest()[:16]


@dataclass(frozen=True)
class WrappedKey:
    """A complainant's data key as complaints.pii_keys keeps it."""

    ref: str
    wrapped: bytes  # nonce || AES-256-GCM(master key, data key)
    master_key_id: str


def _aad(kind: str, district: str, ref: str) -> bytes:
    return f"liuhen/{kind}/v1\0{district}\0{ref}".encode()


def _box(key: bytes, plain: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plain, aad)


def _unbox(key: bytes, box: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(box[:NONCE], box[NONCE:], aad)
    except (InvalidTag, ValueError):
        raise Unreadable("does not open (another key or row, or altered)") from None


def identity_of(given: dict | None) -> dict:
    """The four fields of an identity, None where not given; nothing else."""
    given = given or {}
    return {f: (given.get(f) or None) for f in FIELDS}


def given_fields(identity: dict) -> list[str]:
    """Which fields an identity has: shown and stored in the clear, never values."""
    return [f for f in FIELDS if identity.get(f)]


class Keyring:
    """The master key, and what it does: draw, wrap and unwrap data keys; seal and
    open identities."""

    def __init__(self, master: bytes):
        self._master = master
        self.key_id = master_key_id(master)

    def seal_new(self, district: str, ref: str, identity: dict):
        """(sealed text, its WrappedKey) for a new complainant."""
        data_key = AESGCM.generate_key(bit_length=256)
        plain = json.dumps(identity_of(identity), ensure_ascii=False, sort_keys=True)
        raw = plain.encode()
        raw += b" " * (-len(raw) % PAD)  # JSON ignores trailing blanks
        sealed = _box(data_key, raw, _aad("pii", district, ref))
        text = PREFIX + base64.b64encode(sealed).decode("ascii")
        wrapped = _box(self._master, data_key, _aad("pii-key", district, ref))
        return text, WrappedKey(ref, wrapped, self.key_id)

    def open(self, district: str, sealed: str, key: WrappedKey) -> dict:
        """The identity; Unreadable if anything does not match."""
        if key.master_key_id != self.key_id:
            raise Unreadable(
                f"the data key of complainant {key.ref} was wrapped with master key "
                f"{key.master_key_id}, not this LIUHEN_PII_KEY ({self.key_id})"
            )
        if not sealed.startswith(PREFIX):
            raise Unreadable(f"complainant {key.ref}: not a sealed identity")
        data_key = _unbox(self._master, key.wrapped, _aad("pii-key", district, key.ref))
        box = base64.b64decode(sealed[len(PREFIX) :])
        plain = _unbox(data_key, box, _aad("pii", district, key.ref))
        return identity_of(json.loads(plain))
