"""Finding a complainant again without opening any identity: the blind indexes of
their phones and emails (pii.Keyring.blind) in complaints.pii_index, next to their
key in complaints.pii_keys, never in an event.

A new complaint whose phone or email is indexed in its district joins that
complainant: their reference, their data key (identity.seal). Erasure (identity.erase)
deletes the index rows with the key, so an erased person matches nobody and their
next complaint starts a new key. A complaint that brings a new email (or phone) adds
it to the person's index; one whose phone is one person's and whose email another's
joins the phone's person and leaves the email with the other.

Concurrency, decided here:
- Two first complaints of one person at once both find nothing and draw two keys;
  the index's primary key (district, digest) lets only one of them index the phone:
  the other's insert waits for the first to commit, fails, and its complaint is
  received again from scratch (`Retry`, handlers.receive), now joining the first.
  One key per person, never two to hunt for at erasure.
- A complaint joining a person while that person is erased: both take the person's
  transaction-scoped advisory lock (`lock`; the application role may not SELECT ...
  FOR SHARE a table it may not UPDATE), so one waits for the other. Erasure first:
  the joiner finds the key gone and is received again, as a new person. Joiner
  first: the erasure, after it, empties every row with the reference, the joiner's
  included.
"""

from psycopg import errors

from eventlog.tenancy import district_scope

from . import pii

KNOWN = "SELECT digest, ref FROM complaints.pii_index WHERE digest = ANY(%s)"
KEY = "SELECT wrapped, master_key_id FROM complaints.pii_keys WHERE ref = %s"
INDEX = "INSERT INTO complaints.pii_index (district, digest, ref) VALUES (%s, %s, %s)"
LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('complainant-' || %s, 0))"
FORGET = "DELETE FROM complaints.pii_index WHERE ref = %s"
BY_DIGEST = "SELECT ref FROM complaints.pii_index WHERE digest = %s"


class Retry(Exception):
    """The complaint's complainant changed while it was received (another complaint
    of the same person indexed them first, or they were erased): receive it again."""


def known(conn, district: str, digests: list[bytes]) -> dict[bytes, str]:
    """{digest: complainant reference} of those already indexed in `district`."""
    if not digests:
        return {}
    with district_scope(conn, district):
        rows = conn.execute(KNOWN, (digests,)).fetchall()
    return {bytes(d): ref for d, ref in rows}


def key_of(conn, district: str, ref: str) -> pii.WrappedKey | None:
    with district_scope(conn, district):
        row = conn.execute(KEY, (ref,)).fetchone()
    return pii.WrappedKey(ref, bytes(row[0]), row[1]) if row else None


def lock(conn, ref: str) -> None:
    """Until the transaction ends: a complaint joining `ref`, or its erasure."""
    conn.execute(LOCK, (ref,))


def join(conn, district: str, ref: str, digests, *, new: bool) -> None:
    """In the transaction recording the complaint (district set): the person's key
    still there (if not new), and their index with the complaint's new digests."""
    if not new:
        lock(conn, ref)
        if conn.execute(KEY, (ref,)).fetchone() is None:
            raise Retry(f"complainant {ref} was erased while a complaint joined them")
    try:
        for digest in digests:
            conn.execute(INDEX, (district, digest, ref))
    except (errors.UniqueViolation, errors.ForeignKeyViolation):
        raise Retry("another complaint of this complainant was indexed first") from None


def forget(conn, ref: str) -> None:
    """With the key, in the erasure's transaction (locked)."""
    conn.execute(FORGET, (ref,))


def refs(conn, keyring, districts, field: str, value: str) -> list[tuple[str, str]]:
    """(district, reference) of every complainant whose `field` (phone or email) is
    `value`, without opening an identity: its blind index, district by district."""
    found = []
    for district in districts:
        digest = keyring.blind(district, field, value)
        with district_scope(conn, district):
            row = conn.execute(BY_DIGEST, (digest,)).fetchone()
        if row:
            found.append((district, row[0]))
    return found
