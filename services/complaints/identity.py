"""Complainants' identities: kept encrypted, read on record, erased by destroying a key.

- receive: `seal` encrypts the identity under the complainant's data key: the key of
  the complainant in the district with the same phone or email (blind.py: found by
  blind index, not by opening identities), else a new one. The complaint's event
  holds the ciphertext and the reference (pii.py says how), and `keep_key` stores a
  new wrapped key and the blind indexes in the same transaction.
- read: `read` opens the identity for a person (intake, inspection) or for notify's
  send, and records it (ComplainantIdentityRead on `complainant-<ref>`: actor,
  reason, time) before anything is returned. The record is appended after the key
  was read, so an erasure committed in between refuses it (the stream says erased)
  and the identity opened meanwhile is dropped.
- erase: `erase` records ComplainantErased and deletes the key and its blind indexes
  in one transaction: every complaint of the person. The ciphertext stays in the log
  (append-only, its hash unchanged) and nobody can open it; the read model drops it
  too, and a rebuild folds the erasure again.

Complaints from before encryption (ComplaintReceived schema 1) hold the identity in
plain text in the log, which cannot be rewritten: their read model row is `legacy`
(the identity is read from the event, and that read recorded the same way), and
erasing them hides the identity everywhere the platform shows it, but the log keeps
it (docs/security-notes/pii.md).
"""

from dataclasses import dataclass

from eventlog.handler import handle
from eventlog.ids import random_code
from eventlog.tenancy import district_scope

from . import blind, complainant, pii, projections
from .complainant import Erased
from .domain import DomainError

NOTIFY = "system:notify"
ROW = """
SELECT p.ref, p.ciphertext, p.given, p.legacy, p.erased_at, k.wrapped, k.master_key_id
  FROM complaints.complainants p LEFT JOIN complaints.pii_keys k ON k.ref = p.ref
 WHERE p.complaint_id = %s
"""
KEEP = """
INSERT INTO complaints.pii_keys (ref, district, complaint_id, wrapped, master_key_id,
    created_at) VALUES (%s, %s, %s, %s, %s, %s)
"""
REACH = """
SELECT c.channel, c.anonymous, coalesce(p.given, '{}'),
       p.erased_at IS NOT NULL OR (NOT p.legacy AND k.ref IS NULL)
  FROM complaints.complaints c
  LEFT JOIN complaints.complainants p ON p.complaint_id = c.id
  LEFT JOIN complaints.pii_keys k ON k.ref = p.ref
 WHERE c.id = %s
"""
LEGACY = (
    "SELECT data->'complainant' FROM eventlog.events"
    " WHERE stream_id = %s AND stream_version = 1"
)


class NotFound(DomainError):
    """By its name, the gateway's 404 (handlers.NotFound's twin: handlers imports
    this module)."""

    code = "not_found"


def stream(ref: str) -> str:
    return f"complainant-{ref}"


@dataclass(frozen=True)
class Keep:
    """What the complaint's transaction keeps of its complainant (`keep_key`)."""

    key: pii.WrappedKey
    new: bool  # a new complainant: keep the key; else the person's key must remain
    digests: tuple[bytes, ...]  # blind indexes not yet indexed: index them


def seal(keyring, district: str, given: dict | None, conn=None):
    """(the complaint's `complainant`, its Keep) for a new complaint; (None, None)
    for an anonymous one. With `conn`, a complainant already known in the district
    by phone or email (blind.py) keeps their reference and key."""
    identity = pii.identity_of(given)
    fields = pii.given_fields(identity)
    if not fields:
        return None, None
    if keyring is None:
        raise pii.KeyMissing("no LIUHEN_PII_KEY: cannot keep a complainant's identity")
    digests = keyring.blind_indexes(district, identity)
    found = blind.known(conn, district, digests) if conn is not None else {}
    ref = next((found[d] for d in digests if d in found), None)
    key = blind.key_of(conn, district, ref) if ref else None
    if key is None:
        ciphertext, key = keyring.seal_new(district, "P-" + random_code(12), identity)
    else:
        ciphertext = keyring.seal_with(district, key, identity)
    fresh = tuple(d for d in digests if d not in found)
    out = {"ref": key.ref, "ciphertext": ciphertext, "given": fields}
    return out, Keep(key, ref is None or key.ref != ref, fresh)


def keep_key(conn, district: str, complaint_id: str, keep: Keep, now) -> None:
    """In the transaction that records the complaint (district already set)."""
    key = keep.key
    if keep.new:
        conn.execute(
            KEEP, (key.ref, district, complaint_id, key.wrapped, key.master_key_id, now)
        )
    blind.join(conn, district, key.ref, keep.digests, new=keep.new)


def summary(conn, complaint_id: str) -> dict | None:
    """What the complaint view shows of its complainant: whether there is an
    identity, which fields, encrypted or erased; never the identity. Within the
    caller's district scope."""
    row = conn.execute(ROW, (complaint_id,)).fetchone()
    if row is None:
        return None
    ref, ciphertext, given, legacy, erased_at, wrapped, _ = row
    state = "legacy" if legacy else "encrypted"
    if erased_at is not None or (not legacy and (wrapped is None or not ciphertext)):
        state = "erased"
    return {"ref": ref, "given": list(given), "state": state}


def _open(conn, district, complaint_id, keyring) -> tuple[str, dict]:
    with district_scope(conn, district):
        row = conn.execute(ROW, (complaint_id,)).fetchone()
        if row is None:
            raise NotFound(f"complaint {complaint_id} has no complainant identity")
        ref, ciphertext, _, legacy, erased_at, wrapped, key_id = row
        if erased_at is not None or (not legacy and wrapped is None):
            raise Erased(f"the identity of complainant {ref} was erased")
        if legacy:
            plain = conn.execute(LEGACY, (f"complaint-{complaint_id}",)).fetchone()
            return ref, pii.identity_of(plain[0] if plain else None)
    key = pii.WrappedKey(ref, wrapped, key_id)
    return ref, keyring.open(district, ciphertext, key)


def read(store, district, complaint_id, actor, reason, keyring, now, via="api"):
    """The identity, once its read is on record: {complaint_id, ref, name, phone,
    email, address, read_event_id}."""
    ref, identity = _open(store.conn, district, complaint_id, keyring)
    recorded = handle(
        store,
        stream(ref),
        district,
        fold=complainant.fold,
        decide=lambda state: complainant.read(
            state, ref, complaint_id, actor, reason, now, via
        ),
    )
    return {
        "complaint_id": complaint_id,
        "ref": ref,
        **identity,
        "read_event_id": str(recorded[0].event_id),
    }


def reach(conn, district: str, complaint_id: str) -> dict:
    """How the complainant can be reached, without reading who they are (notify
    plans its messages with this): {channel, anonymous, erased, phone, email}, the
    last two booleans."""
    with district_scope(conn, district):
        row = conn.execute(REACH, (complaint_id,)).fetchone()
    if row is None:
        raise NotFound(f"no complaint {complaint_id} in district {district}")
    channel, anonymous, given, erased = row
    given = () if erased else given  # nothing left to reach them by
    return {
        "channel": channel,
        "anonymous": anonymous,
        "erased": bool(erased),
        "phone": "phone" in given,
        "email": "email" in given,
    }


def contact(store, district, complaint_id, reason, keyring, now) -> dict:
    """For notify's send, the read recorded (actor system:notify, `reason` the
    notification): {channel, anonymous, erased, name, phone, email}; no name nor
    address for an anonymous or erased complainant, and then nothing recorded."""
    found = reach(store.conn, district, complaint_id)
    out = {**found, "name": None, "phone": None, "email": None}
    if found["anonymous"] or found["erased"]:
        return out
    try:
        who = read(
            store, district, complaint_id, NOTIFY, reason, keyring, now, "notify"
        )
    except Erased:  # erased since `reach` looked
        return {**out, "erased": True}
    return {**out, "name": who["name"], "phone": who["phone"], "email": who["email"]}


FIND = """
SELECT p.complaint_id, p.ref, p.legacy, p.erased_at FROM complaints.complainants p
 WHERE p.ref = coalesce(
     (SELECT ref FROM complaints.complainants WHERE complaint_id = %(x)s), %(x)s)
 ORDER BY p.complaint_id
"""


def find(conn, districts, ref_or_id: str) -> dict | None:
    """A complainant by reference or complaint id, in whichever district holds it:
    {district, complaint_id (the first), complaint_ids (all theirs), ref, legacy,
    erased_at}."""
    for district in districts:
        with district_scope(conn, district):
            rows = conn.execute(FIND, {"x": ref_or_id}).fetchall()
        if rows:
            keys = ("complaint_id", "ref", "legacy", "erased_at")
            first = dict(zip(keys, rows[0], strict=True))
            return {
                "district": district,
                **first,
                "complaint_ids": [r[0] for r in rows],
            }
    return None


def erase(store, found: dict, actor: str, reason: str | None, now) -> list:
    """Record the erasure and destroy the key, in one transaction; [] if it was
    erased already."""
    ref = found["ref"]

    def project(store, recorded):
        blind.lock(store.conn, ref)  # no complaint joins them meanwhile (blind.py)
        blind.forget(store.conn, ref)
        store.conn.execute("DELETE FROM complaints.pii_keys WHERE ref = %s", (ref,))
        projections.apply(store, recorded)

    return handle(
        store,
        stream(ref),
        found["district"],
        fold=complainant.fold,
        decide=lambda state: complainant.erase(
            state, found["complaint_id"], actor, reason, now
        ),
        project=project,
    )
