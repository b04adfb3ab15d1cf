"""Recording digests of each district's log (the hashing is eventlog/digests.py).

A digest goes on from the district's previous one, covering the events committed
since, up to the log's commit-safe horizon. It is appended to `digest-<district>` at
the version after the previous digest, so two audit instances racing record it once
(the loser's append is refused and it moves on). A district whose log has nothing
new but digests gets none: an idle log is not re-signed every hour.
"""

from eventlog import digests
from eventlog.model import ConcurrencyError, NewEvent
from eventlog.store import districts

ACTOR = "system:audit"
BATCH = 5000


def _previous(store, district: str) -> tuple[int, digests.Head]:
    stream = digests.STREAM.format(district=district)
    history = store.read_stream(stream)
    if not history:
        return 0, digests.Head()
    last = digests.Digest.of(history[-1].data)
    return history[-1].stream_version, last.head


def record(store, district: str, key) -> digests.Digest | None:
    """Sign and append the district's next digest; None if nothing new happened."""
    version, head = _previous(store, district)
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
    return digest


def record_all(store, key) -> list[digests.Digest]:
    return [
        d
        for district in districts(store.conn)
        if (d := record(store, district, key)) is not None
    ]
