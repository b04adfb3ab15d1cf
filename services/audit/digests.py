"""Recording digests of each district's log (the hashing is eventlog/digests.py).

A digest goes on from the district's previous one, covering the events committed
since, up to the log's commit-safe horizon. It is appended to `digest-<district>` at
the version after the previous digest, so two audit instances racing record it once
(the loser's append is refused and it moves on). A district whose log has nothing
new but digests gets none: an idle log is not re-signed every hour.

The signer also remembers, beside its key and away from the database, the last digest
it recorded per district (`Memory`). Before signing on it looks for that digest in the
log: someone who deleted the digest stream, or rewrote history behind it, would
otherwise get the operator's key to sign the altered log from the beginning.
"""

import json
import os
from pathlib import Path

from eventlog import digests
from eventlog.model import ConcurrencyError, NewEvent
from eventlog.store import districts

ACTOR = "system:audit"
BATCH = 5000


class DigestChainError(Exception):
    """The digest stream does not end in a digest this key signed: signing on from
    it would lend the key to whatever was appended there. Nothing is recorded."""


class Memory:
    """The last digest this signer recorded per district, in a JSON file (by default
    next to the signing key: `<key>.signed.json`). None: remembers nothing."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None

    def last(self, district: str) -> str | None:
        """The hex digest last signed for `district`, if any."""
        return self._read().get(district)

    def remember(self, digest: digests.Digest) -> None:
        if self.path is None:
            return
        known = self._read()
        known[digest.district] = digest.digest
        spare = self.path.with_suffix(".tmp")
        spare.write_text(json.dumps(known, indent=1, sort_keys=True))
        os.replace(spare, self.path)  # never half-written

    def _read(self) -> dict:
        if self.path is None or not self.path.exists():
            return {}
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise DigestChainError(f"cannot read {self.path}: {exc}") from None


FORGETFUL = Memory(None)  # remembers nothing: for callers without a key file


def _previous(store, district: str, key, memory: Memory) -> tuple[int, digests.Head]:
    """The version and head of the last digest, which must be a well-formed
    DigestRecorded of this district signed by `key`, in a stream that still holds
    the digest this signer last recorded."""
    stream = digests.STREAM.format(district=district)
    history = store.read_stream(stream)
    remembered = memory.last(district)
    if remembered and all(e.data.get("digest") != remembered for e in history):
        raise DigestChainError(
            f"{stream} no longer holds the digest this signer last recorded "
            f"({remembered[:16]}...): the log was deleted or rewritten behind it; "
            f"not signing (a database recreated on purpose: remove {memory.path})"
        )
    if not history:
        return 0, digests.Head()
    last = history[-1]
    try:
        if last.type != digests.TYPE:
            raise digests.MalformedDigest(f"it is a {last.type}")
        digest = digests.Digest.of(last.data)
        if digest.district != district:
            raise digests.MalformedDigest(f"it is district {digest.district}'s")
    except digests.MalformedDigest as exc:
        raise DigestChainError(
            f"{stream} ends in no digest at version {last.stream_version} ({exc})"
        ) from None
    public = key.public_key()
    problem = digests.signature_problem(digest, {digests.key_id(public): public})
    if problem:
        raise DigestChainError(
            f"{stream} version {last.stream_version}: {problem}; not signing on"
        )
    return last.stream_version, digest.head


def record(store, district: str, key, memory: Memory = FORGETFUL):
    """Sign and append the district's next digest; None if nothing new happened.
    Raises DigestChainError when the stream does not end in this key's digest, or
    lost the one `memory` holds."""
    version, head = _previous(store, district, key, memory)
    fresh = False
    while True:
        batch = store.read_after(head.checkpoint, limit=BATCH, districts=[district])
        if not batch:
            break
        fresh = fresh or any(e.type != digests.TYPE for e in batch)
        head = head.then(batch)
    if not fresh:
        return None
    digest = digests.sign(key, district, head)
    try:
        store.append(
            digests.STREAM.format(district=district),
            district,
            version,
            [NewEvent(digests.TYPE, digest.data(), ACTOR, reason="periodic digest")],
        )
    except ConcurrencyError:
        return None  # another instance recorded this one
    memory.remember(digest)
    return digest


def record_all(
    store, key, memory: Memory = FORGETFUL
) -> tuple[list[digests.Digest], dict[str, str]]:
    """Each district's next digest; a district whose digest stream is not in order
    is refused (its reason returned) and the others go on."""
    made, refused = [], {}
    for district in districts(store.conn):
        try:
            digest = record(store, district, key, memory)
        except DigestChainError as exc:
            refused[district] = str(exc)
            continue
        if digest is not None:
            made.append(digest)
    return made, refused
