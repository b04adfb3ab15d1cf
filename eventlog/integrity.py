"""One integrity report, the same from `liuhen verify` and `GET /v1/audit/verify`:
every hash chain in scope, and every digest of the districts in scope (those the log
records and any kept elsewhere), checked against the log.

The chains name the first event that is altered, or missing inside its stream, or out
of its stream's order; the digests find what chains cannot (a stream's last events or
a whole stream deleted, a stream rewritten with fresh hashes) and say between which
positions it happened.
"""

from collections.abc import Callable, Iterable
from dataclasses import asdict

from . import digests
from .store import districts
from .verify import verify


def report(
    conn,
    *,
    district: str | None = None,
    stream_id: str | None = None,
    keys=None,
    kept: Iterable[tuple[digests.Digest, str]] = (),
    on_progress: Callable[[int, int], None] | None = None,
) -> dict:
    """A JSON-able report. `keys`: trusted public keys by id (None: signatures go
    unchecked, and the report says so); `kept`: (digest, where it came from)."""
    chains = verify(
        conn, district=district, stream_id=stream_id, on_progress=on_progress
    )
    kept = [(d, source) for d, source in kept if district in (None, d.district)]
    findings = []
    if stream_id is None:
        for name in _districts(conn, district, kept):
            logged, malformed = digests.recorded(conn, name)
            pairs = [(d, "log") for d in logged]
            pairs += [(d, s) for d, s in kept if d.district == name]
            findings += [
                {"district": name, **asdict(f), "text": str(f)}
                for f in digests.check(conn, name, pairs, keys) + malformed
            ]
    breaks = sorted(chains.breaks, key=lambda b: b.position)
    return {
        "scope": _scope(district, stream_id),
        "ok": chains.ok and all(f["ok"] for f in findings),
        "events": chains.checked,
        "streams": chains.streams,
        "breaks": [{**asdict(b), "text": str(b)} for b in breaks],
        "digests": {
            "checked": len(findings),
            "signatures": "checked" if keys else "not checked: no trusted key",
            "findings": findings,
        },
    }


def _scope(district, stream_id) -> str:
    if stream_id:
        return f"stream {stream_id}"
    return f"district {district}" if district else "the whole log"


def _districts(conn, district, kept) -> list[str]:
    if district:
        return [district]
    return sorted(set(districts(conn)) | {d.district for d, _ in kept})
