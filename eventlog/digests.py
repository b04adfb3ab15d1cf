"""Signed digests of a district's log: deleting or rewriting history shows, even to
someone who holds nothing but old digests.

Each stream's hash chain proves a stream untouched, but not complete: delete a
stream's last events, or a whole stream, or rewrite a stream and recompute its
hashes, and every chain still verifies. A digest closes that gap. It is a running
hash over every event of one district in the log's commit-safe order,

    d_0 = 32 zero bytes
    d_i = SHA-256(d_(i-1) || position (8 bytes, big-endian) || hash of event i)

taken up to a head (the last event's transaction id and position: everything at or
before it in that order has committed and can never change), with the number of
events, and signed with an Ed25519 key the operator holds and the database never
sees. A digest is recorded as an event (`DigestRecorded` on `digest-<district>`) and
so published on AMQP: an integrator or an inspector who keeps it can check the log
against it at any later time. Any deletion, insertion, reordering or change of an
event at or before the head changes the count or the running hash; a forged digest
fails the signature.

The running hash goes on from the previous digest, so recording one reads only the
events since; checking reads the district's log once for all digests.
"""

import base64
import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .model import Checkpoint

ALGORITHM = "sha256-chain/v1"
HEX64 = re.compile(r"[0-9a-f]{64}")
ZERO = bytes(32)
STREAM = "digest-{district}"
TYPE = "DigestRecorded"


class DigestKeyError(Exception):
    """The signing key or a public key cannot be read."""


class MalformedDigest(ValueError):
    """A digest (from the log or a kept file) is not one: names what is wrong."""


def step(running: bytes, position: int, event_hash: bytes) -> bytes:
    return hashlib.sha256(running + position.to_bytes(8, "big") + event_hash).digest()


@dataclass(frozen=True)
class Head:
    """Where a district's log stood: its last event in commit-safe order, how many
    events up to it, and the running hash over them."""

    tx_id: int = 0
    position: int = 0
    count: int = 0
    digest: bytes = ZERO

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.tx_id, self.position)

    def then(self, events: Iterable) -> "Head":
        """This head moved past `events` (in commit-safe order)."""
        head = self
        for e in events:
            head = Head(
                e.tx_id,
                e.position,
                head.count + 1,
                step(head.digest, e.position, e.hash),
            )
        return head


def message(district: str, head: Head) -> bytes:
    """The bytes signed: everything a digest asserts."""
    return (
        f"liuhen-digest\n{ALGORITHM}\n{district}\n{head.tx_id}\n{head.position}\n"
        f"{head.count}\n{head.digest.hex()}"
    ).encode()


# -- keys ------------------------------------------------------------------------


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()[:16]


def public_text(public: Ed25519PublicKey) -> str:
    """A public key as one line of base64 (the raw 32 bytes), for configuration."""
    raw = public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode()


def new_key(path: Path) -> Ed25519PublicKey:
    """Write a new private key (PEM, mode 600) to `path`; refuse to overwrite."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        with open(path, "xb", opener=lambda p, f: os.open(p, f, 0o600)) as out:
            out.write(pem)
    except FileExistsError:
        raise DigestKeyError(f"{path} exists; not overwriting a signing key") from None
    return key.public_key()


def load_private(path: str | Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), None)
    except OSError as exc:
        raise DigestKeyError(
            f"cannot read the digest key {path}: {exc.strerror}"
        ) from None
    except (ValueError, TypeError):
        raise DigestKeyError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise DigestKeyError(f"{path} is not an Ed25519 key")
    return key


def load_public(text: str) -> Ed25519PublicKey:
    """A public key from its base64 line (see `public_text`)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise DigestKeyError(
            f"{text[:20]!r}... is not a base64 Ed25519 public key"
        ) from None


def trusted_keys(
    private_path: str | None, public_texts: Iterable[str] = ()
) -> dict[str, Ed25519PublicKey] | None:
    """The public keys digests are checked with, by key id: the signing key's own
    and any configured (old keys stay trusted for old digests). None when there are
    none: signatures then go unchecked, and reports say so."""
    keys = [load_public(t) for t in public_texts if t.strip()]
    if private_path:
        keys.append(load_private(private_path).public_key())
    return {key_id(k): k for k in keys} or None


# -- digests -----------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    district: str
    head_tx: int
    head_position: int
    count: int
    digest: str  # hex
    algorithm: str
    key_id: str
    signature: str  # base64

    @property
    def head(self) -> Head:
        return Head(
            self.head_tx, self.head_position, self.count, bytes.fromhex(self.digest)
        )

    def data(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, data) -> "Digest":
        """From an event's data or a kept copy, strictly typed: a "5" for 5 would
        still sign the same message, and then break every comparison after it."""
        if not isinstance(data, dict):
            raise MalformedDigest("a digest is a JSON object")
        missing = [name for name in cls.__dataclass_fields__ if name not in data]
        if missing:
            raise MalformedDigest(f"a digest needs {', '.join(missing)}")
        fields = {name: data[name] for name in cls.__dataclass_fields__}
        for name in ("head_tx", "head_position", "count"):
            value = fields[name]
            if type(value) is not int or not 0 <= value < 2**63:
                raise MalformedDigest(f"{name} {value!r} is not a whole number >= 0")
        for name in ("district", "digest", "algorithm", "key_id", "signature"):
            if not isinstance(fields[name], str):
                raise MalformedDigest(f"{name} {fields[name]!r} is not text")
        if not HEX64.fullmatch(fields["digest"]):
            raise MalformedDigest("digest is not 64 lowercase hex digits")
        return cls(**fields)


def sign(key: Ed25519PrivateKey, district: str, head: Head) -> Digest:
    signature = key.sign(message(district, head))
    return Digest(
        district=district,
        head_tx=head.tx_id,
        head_position=head.position,
        count=head.count,
        digest=head.digest.hex(),
        algorithm=ALGORITHM,
        key_id=key_id(key.public_key()),
        signature=base64.b64encode(signature).decode(),
    )


def signature_problem(digest: Digest, keys: dict[str, Ed25519PublicKey]) -> str | None:
    """Why the signature does not hold (None: it does). `keys` by key id."""
    if digest.algorithm != ALGORITHM:
        return f"unknown algorithm {digest.algorithm!r}"
    public = keys.get(digest.key_id)
    if public is None:
        return f"signed with key {digest.key_id}, which is not a trusted key"
    try:
        public.verify(
            base64.b64decode(digest.signature), message(digest.district, digest.head)
        )
    except (InvalidSignature, ValueError):
        return "the signature does not match the digest (forged or altered)"
    return None


# -- reading the log ---------------------------------------------------------------

WALK = """
SELECT tx_id::text::bigint, position, hash FROM eventlog.events
 WHERE district = %(district)s
   AND (tx_id, position) <= (%(tx)s::text::xid8, %(pos)s)
 ORDER BY events.tx_id, events.position
"""


@dataclass(frozen=True)
class _Row:
    tx_id: int
    position: int
    hash: bytes


def recorded(conn, district: str) -> tuple[list[Digest], list["Finding"]]:
    """The digests recorded in the district's log, in order, and a failed finding
    for each event of the digest stream that is not a well-formed digest (anyone
    who may append can append one: it must be reported, not skipped)."""
    rows = conn.execute(
        "SELECT position, type, data FROM eventlog.events WHERE stream_id = %s"
        " ORDER BY stream_version",
        (STREAM.format(district=district),),
    ).fetchall()
    good, bad = [], []
    for position, type_, data in rows:
        try:
            if type_ != TYPE:
                raise MalformedDigest(f"a {type_} event in the digest stream")
            good.append(Digest.of(data))
        except MalformedDigest as exc:
            bad.append(Finding(position, 0, "log", False, f"malformed: {exc}", True))
    return good, bad


@dataclass(frozen=True)
class Finding:
    """One digest checked against the log."""

    head_position: int
    count: int
    source: str  # "log" or where a kept digest came from
    ok: bool
    problem: str | None = None
    malformed: bool = False  # then head_position is the position of the event

    def __str__(self) -> str:
        if self.malformed:
            return f"digest event at position {self.head_position}: {self.problem}"
        where = (
            f"digest up to position {self.head_position} "
            f"({self.count} events, {self.source})"
        )
        return f"{where}: {'matches' if self.ok else self.problem}"


def check(
    conn,
    district: str,
    digests: list[tuple[Digest, str]],
    keys: dict[str, Ed25519PublicKey] | None,
    on_progress: Callable[[int], None] | None = None,
) -> list[Finding]:
    """Check (digest, source) pairs of one district against its log, in one walk.

    With `keys` None, signatures are not checked (say so to the reader); otherwise a
    digest whose signature fails is reported and not trusted for the walk.
    """
    findings: dict[int, Finding] = {}
    pending = []
    for index, (digest, source) in enumerate(digests):
        problem = None
        if digest.district != district:
            problem = f"it is a digest of district {digest.district}"
        elif keys is not None:
            problem = signature_problem(digest, keys)
        if problem:
            findings[index] = Finding(
                digest.head_position, digest.count, source, False, problem
            )
        else:
            pending.append((index, digest, source))
    if pending:
        pending.sort(key=lambda p: (p[1].head_tx, p[1].head_position))
        last = pending[-1][1]
        good: Finding | None = (
            None  # the last digest that matched: where a change starts
        )
        running = Head()
        cur = conn.cursor(name="liuhen_digest_walk")
        cur.itersize = 5000
        with conn.transaction():
            cur.execute(
                WALK,
                {
                    "district": district,
                    "tx": str(last.head_tx),
                    "pos": last.head_position,
                },
            )
            rows = (_Row(*r) for r in cur)
            queue = list(pending)
            for row in rows:
                # Digests whose head lies before this row are settled by now.
                while queue and (queue[0][1].head_tx, queue[0][1].head_position) < (
                    row.tx_id,
                    row.position,
                ):
                    good = _settle(findings, queue.pop(0), running, good)
                running = running.then([row])
                if on_progress and running.count % 5000 == 0:
                    on_progress(running.count)
            cur.close()
        while queue:
            good = _settle(findings, queue.pop(0), running, good)
    return [findings[i] for i in sorted(findings)]


def _settle(findings, item, running: Head, good: Finding | None) -> Finding | None:
    index, digest, source = item
    if (
        running.count == digest.count
        and running.digest.hex() == digest.digest
        and (running.position == digest.head_position)
    ):
        findings[index] = Finding(digest.head_position, digest.count, source, True)
        return findings[index]
    since = (
        f"after position {good.head_position} (the last digest that matches)"
        if good
        else "from the start of the district's log"
    )
    if running.count < digest.count:
        what = f"{digest.count - running.count} events fewer: deleted"
    elif running.count > digest.count:
        what = f"{running.count - digest.count} events more: inserted"
    else:
        what = "as many events, another hash: changed or reordered"
    findings[index] = Finding(
        digest.head_position,
        digest.count,
        source,
        False,
        f"the log no longer matches it ({what}, {since}, up to position "
        f"{digest.head_position})",
    )
    return good
