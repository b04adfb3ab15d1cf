"""The tamper drill: as a database superuser (every guard off), alter one event,
delete one, reorder two, delete a stream's last event, rewrite a stream with fresh
hashes, forge a digest. Each is detected and named, by the chains or by the signed
digests, including by someone who holds nothing but a digest kept from before.

Each case runs in a district of its own, so the digests cover that case only.
"""

import json
import subprocess
import sys
import uuid

import pytest

from eventlog import canonical, digests, integrity
from eventlog.model import NewEvent
from eventlog.store import EventStore
from services.audit.digests import DigestChainError, Memory, record, record_all
from tests.conftest import wait_for_horizon
from tests.integration.test_verify import tamper


@pytest.fixture
def key(tmp_path):
    path = tmp_path / "digest.pem"
    digests.new_key(path)
    return path


@pytest.fixture
def drill(conn, key):
    """A district of three streams of three events each, and a digest over them."""
    district = f"drill_{uuid.uuid4().hex[:8]}"
    store = EventStore(conn)
    streams = {}
    for n in range(3):
        # A category no read model folds: a rebuild must not meet these events.
        stream = f"drill-D{n}-{uuid.uuid4().hex[:8]}"
        streams[stream] = store.append(
            stream,
            district,
            0,
            [
                NewEvent("DrillStarted", {"n": n}, "intake:a"),
                NewEvent("DrillStepped", {}, "intake:a"),
                NewEvent("DrillEnded", {"unit": f"u{n}"}, "intake:a"),
            ],
        )
    wait_for_horizon(conn, max(e.tx_id for s in streams.values() for e in s))
    kept = record(store, district, digests.load_private(key))
    assert kept is not None and kept.count == 9
    return district, streams, kept


def report(conn, district, key, kept=()):
    keys = digests.trusted_keys(str(key))
    return integrity.report(conn, district=district, keys=keys, kept=kept)


def failed(found) -> list[str]:
    return [f["text"] for f in found["digests"]["findings"] if not f["ok"]]


def test_an_untouched_district_verifies_chains_and_digest(conn, drill, key):
    district, _, kept = drill
    found = report(conn, district, key, [(kept, "kept")])
    assert found["ok"], found
    assert found["events"] == 10  # nine, and the digest itself
    assert [f["source"] for f in found["digests"]["findings"]] == ["log", "kept"]


def test_an_altered_event_is_named(admin_conn, conn, drill, key):
    district, streams, _ = drill
    target = list(streams.values())[1][1]
    tamper(
        admin_conn,
        "UPDATE eventlog.events SET actor = 'intake:b' WHERE position = %s",
        (target.position,),
    )
    found = report(conn, district, key)
    assert not found["ok"]
    assert found["breaks"][0]["position"] == target.position
    assert "hash does not match" in found["breaks"][0]["problem"]
    # The digest covers the stored hashes, which the chain has just shown no longer
    # cover the contents; a forger who recomputes them is the next test's.
    assert failed(found) == []


def test_a_deleted_event_is_named(admin_conn, conn, drill, key):
    district, streams, _ = drill
    events = list(streams.values())[0]
    tamper(
        admin_conn,
        "DELETE FROM eventlog.events WHERE position = %s",
        (events[1].position,),
    )
    found = report(conn, district, key)
    first = found["breaks"][0]
    assert (first["position"], first["problem"]) == (
        events[2].position,
        "version 2 is missing",
    )
    assert "1 events fewer: deleted" in failed(found)[0]


def test_two_reordered_events_are_named(admin_conn, conn, drill, key):
    district, streams, _ = drill
    a, b = list(streams.values())[2][:2]
    # position is an identity column: out with both rows, in with swapped positions.
    swap = {"a": a.position, "b": b.position}
    with admin_conn.transaction():
        admin_conn.execute("SET LOCAL session_replication_role = replica")
        for statement in (
            "CREATE TEMP TABLE swap ON COMMIT DROP AS SELECT * FROM eventlog.events"
            " WHERE position IN (%(a)s, %(b)s)",
            "DELETE FROM eventlog.events WHERE position IN (%(a)s, %(b)s)",
            "UPDATE swap SET position = CASE position WHEN %(a)s THEN %(b)s"
            " ELSE %(a)s END",
            "INSERT INTO eventlog.events OVERRIDING SYSTEM VALUE SELECT * FROM swap",
        ):
            admin_conn.execute(statement, swap)
    found = report(conn, district, key)
    assert found["breaks"][0]["position"] == a.position  # now version 2's position
    assert "out of order" in found["breaks"][0]["problem"]
    assert "changed or reordered" in failed(found)[0]


def test_a_streams_last_event_deleted_escapes_the_chains_not_the_digest(
    admin_conn, conn, drill, key
):
    district, streams, kept = drill
    last = list(streams.values())[0][-1]
    tamper(
        admin_conn, "DELETE FROM eventlog.events WHERE position = %s", (last.position,)
    )
    found = report(conn, district, key)
    assert found["breaks"] == []  # every remaining chain is whole
    assert not found["ok"]
    assert failed(found) == [
        f"digest up to position {kept.head_position} (9 events, log): the log no "
        "longer matches it (1 events fewer: deleted, from the start of the "
        f"district's log, up to position {kept.head_position})"
    ]


def test_a_stream_rewritten_with_fresh_hashes_and_the_digests_deleted_is_found_by_a_kept_digest(  # noqa: E501
    admin_conn, conn, drill, key
):
    district, streams, kept = drill
    stream, events = next(iter(streams.items()))
    rewrite(admin_conn, stream, {"n": 99})
    tamper(
        admin_conn,
        "DELETE FROM eventlog.events WHERE stream_id = %s",
        (digests.STREAM.format(district=district),),
    )
    found = report(conn, district, key, [(kept, "kept by an integrator")])
    assert found["breaks"] == []  # the forger recomputed every hash
    assert found["digests"]["checked"] == 1  # the log's own digest is gone
    assert failed(found)[0].startswith(
        f"digest up to position {kept.head_position} (9 events, kept by an "
        "integrator): the log no longer matches it (as many events, another hash"
    )


def test_a_forged_digest_is_refused(conn, drill, key, tmp_path):
    district, _, kept = drill
    other = tmp_path / "forger.pem"
    digests.new_key(other)
    forged = digests.sign(digests.load_private(other), district, kept.head)
    found = report(conn, district, key, [(forged, "forged")])
    assert failed(found) == [
        f"digest up to position {kept.head_position} (9 events, forged): signed "
        f"with key {forged.key_id}, which is not a trusted key"
    ]


def test_the_command_line_prints_the_same_report(database, drill, key, tmp_path):
    district, _, kept = drill
    kept_file = tmp_path / "kept.jsonl"
    kept_file.write_text(json.dumps({"type": "DigestRecorded", "data": kept.data()}))
    done = subprocess.run(
        [sys.executable, "-m", "liuhen", "verify", "--district", district, "--json"]
        + ["--digests", str(kept_file)],
        env={**database.env(), "LIUHEN_DIGEST_KEY": str(key)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["ok"] and printed["digests"]["signatures"] == "checked"
    assert [f["source"] for f in printed["digests"]["findings"]] == [
        "log",
        "kept.jsonl #1",
    ]


def rewrite(admin_conn, stream: str, data: dict) -> None:
    """What a forger who knows the algorithm does: new data, every hash recomputed."""
    rows = admin_conn.execute(
        "SELECT position FROM eventlog.events WHERE stream_id = %s"
        " ORDER BY stream_version",
        (stream,),
    ).fetchall()
    prev = canonical.GENESIS
    for (position,) in rows:
        tamper(
            admin_conn,
            "UPDATE eventlog.events SET data = %s::jsonb WHERE position = %s",
            (json.dumps(data), position),
        )
        event = next(
            e
            for e in EventStore(admin_conn).read_stream(stream)
            if e.position == position
        )
        new = canonical.chain(prev, canonical.encode(canonical.hashed_fields_of(event)))
        tamper(
            admin_conn,
            "UPDATE eventlog.events SET prev_hash = %s, hash = %s WHERE position = %s",
            (prev, new, position),
        )
        prev = new


def test_the_signer_goes_on_only_from_its_own_digest(conn, drill, key):
    """Anyone who may append can append to the digest stream: a head far ahead
    would stop digests silently, a forged one would lend the key to it."""
    district, _, kept = drill
    store = EventStore(conn)
    stream = digests.STREAM.format(district=district)
    ahead = {**kept.data(), "head_tx": 2**62, "head_position": 2**62}
    store.append(stream, district, 1, [NewEvent(digests.TYPE, ahead, "intake:a")])
    with pytest.raises(DigestChainError, match="the signature does not match"):
        record(store, district, digests.load_private(key))
    made, refused = record_all(store, digests.load_private(key))
    assert district in refused and all(d.district != district for d in made)


def test_a_malformed_digest_in_the_log_is_reported_not_a_crash(conn, drill, key):
    district, _, kept = drill
    stream = digests.STREAM.format(district=district)
    bad = {**kept.data(), "head_tx": str(kept.head_tx)}  # signs the same message
    event = EventStore(conn).append(
        stream, district, 1, [NewEvent(digests.TYPE, bad, "intake:a")]
    )[0]
    found = report(conn, district, key)
    assert failed(found) == [
        f"digest event at position {event.position}: malformed: head_tx "
        f"'{kept.head_tx}' is not a whole number >= 0"
    ]


def test_a_kept_file_that_holds_no_digests_is_one_readable_line(
    database, drill, key, tmp_path
):
    district, _, kept = drill
    kept_file = tmp_path / "kept.jsonl"
    kept_file.write_text(json.dumps({**kept.data(), "count": "9"}))
    done = subprocess.run(
        [sys.executable, "-m", "liuhen", "verify", "--district", district]
        + ["--digests", str(kept_file)],
        env={**database.env(), "LIUHEN_DIGEST_KEY": str(key)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"liuhen: {kept_file} does not hold digests (MalformedDigest: count '9' is "
        "not a whole number >= 0)"
    ]


def test_the_signer_refuses_to_sign_on_when_its_last_digest_is_gone(
    admin_conn, conn, drill, key, tmp_path
):
    """A superuser deletes the digest stream (and could rewrite history behind it):
    with no digest to go on from, the signer would sign the altered log from the
    start. Its memory, beside the key, says what it signed last."""
    district, _, _ = drill
    store = EventStore(conn)
    memory = Memory(tmp_path / "signed.json")
    store.append(
        f"drill-more-{district}", district, 0, [NewEvent("DrillMore", {}, "a:b")]
    )
    wait_for_horizon(conn, store.read_stream(f"drill-more-{district}")[0].tx_id)
    signed = record(store, district, digests.load_private(key), memory)
    assert signed is not None and memory.last(district) == signed.digest
    tamper(
        admin_conn,
        "DELETE FROM eventlog.events WHERE stream_id = %s",
        (digests.STREAM.format(district=district),),
    )
    with pytest.raises(DigestChainError, match="no longer holds the digest"):
        record(store, district, digests.load_private(key), memory)
