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

Erasure is per person, not per complaint: a new complaint whose phone or email is
an existing complainant's (in the same district) is sealed under that complainant's
data key and reference (identity.py). To find them without opening any identity, each
phone and email is kept as a blind index: HMAC-SHA256 under an index key derived from
the master key (HKDF, its own info string; never the master key itself), the district
in the MAC, so that equal contacts in two districts do not match in a copy of the
database. Normalised first (`normal`): "+86 139-0000-0000" is 13900000000.

Pure: no database, no nameko. Random nonces of 96 bits: each data key seals one
identity per complaint of its complainant, and the master key wraps one data key per
complainant, far below the 2^32 messages per key that random GCM nonces allow.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FIELDS = ("name", "phone", "email", "address")
PREFIX = "aesgcm1:"  # the sealed text's format, should another ever follow
PAD = 64
NONCE = 12
INDEXED = ("phone", "email")  # what finds a person again: a name is not unique
INDEX_INFO = b"liuhen/pii-blind-index/v1"  # HKDF info: the index key's own


class KeyMissing(Exception):
    """LIUHEN_PII_KEY is not set or not 32 bytes of base64."""


class Unreadable(Exception):
    """A sealed identity or wrapped key that does not open: another master key, a
    box moved to another complainant, or an altered row. The gateway answers 503
    `unavailable` (an operator's matter: most likely the wrong LIUHEN_PII_KEY)."""

    def __init__(self, why: str):
        super().__init__(
            f"the identity cannot be decrypted with the configured key: {why}"
        )


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


def normal(field: str, value: str) -> str:
    """The form a phone or email is compared in: a phone's digits, without China's
    country code; an email without blanks, case folded."""
    if field == "email":
        return "".join(value.split()).casefold()
    digits = "".join(ch for ch in value if ch.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix) :]
    return digits


class Keyring:
    """The master key, and what it does: draw, wrap and unwrap data keys; seal and
    open identities."""

    def __init__(self, master: bytes):
        self._master = master
        self.key_id = master_key_id(master)
        hkdf = HKDF(algorithm=SHA256(), length=32, salt=None, info=INDEX_INFO)
        self._index_key = hkdf.derive(master)

    def blind(self, district: str, field: str, value: str) -> bytes:
        """The blind index of one phone or email: equal for equal (normalised)
        values in one district, and nothing about the value without the key."""
        msg = f"{field}\0{district}\0{normal(field, value)}".encode()
        return hmac.new(self._index_key, msg, hashlib.sha256).digest()

    def blind_indexes(self, district: str, identity: dict) -> list[bytes]:
        """The blind indexes of an identity's phone and email (those given)."""
        return [
            self.blind(district, f, identity[f])
            for f in INDEXED
            if identity.get(f) and normal(f, identity[f])
        ]

    def seal_new(self, district: str, ref: str, identity: dict):
        """(sealed text, its WrappedKey) for a new complainant."""
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped = _box(self._master, data_key, _aad("pii-key", district, ref))
        return _seal(data_key, district, ref, identity), WrappedKey(
            ref, wrapped, self.key_id
        )

    def seal_with(self, district: str, key: WrappedKey, identity: dict) -> str:
        """The sealed text of a known complainant's identity, under their data key:
        one key to destroy for all their complaints."""
        return _seal(self._data_key(district, key), district, key.ref, identity)

    def _data_key(self, district: str, key: WrappedKey) -> bytes:
        if key.master_key_id != self.key_id:
            raise Unreadable(
                f"the data key of complainant {key.ref} was wrapped with master key "
                f"{key.master_key_id}, not this LIUHEN_PII_KEY ({self.key_id})"
            )
        return _unbox(self._master, key.wrapped, _aad("pii-key", district, key.ref))

    def open(self, district: str, sealed: str, key: WrappedKey) -> dict:
        """The identity; Unreadable if anything does not match."""
        if not sealed.startswith(PREFIX):
            raise Unreadable(f"complainant {key.ref}: not a sealed identity")
        data_key = self._data_key(district, key)
        try:
            box = base64.b64decode(sealed[len(PREFIX) :], validate=True)
        except binascii.Error:
            raise Unreadable(f"complainant {key.ref}: altered sealed text") from None
        plain = _unbox(data_key, box, _aad("pii", district, key.ref))
        return identity_of(json.loads(plain))


def _seal(data_key: bytes, district: str, ref: str, identity: dict) -> str:
    plain = json.dumps(identity_of(identity), ensure_ascii=False, sort_keys=True)
    raw = plain.encode()
    raw += b" " * (-len(raw) % PAD)  # JSON ignores trailing blanks
    sealed = _box(data_key, raw, _aad("pii", district, ref))
    return PREFIX + base64.b64encode(sealed).decode("ascii")
