"""What an integrator lives: the catch-up feed over HTTP (`GET /v1/events`), and the
shipped example (docs/examples/integrator.py) run as its own process against the
platform, catching up and then following its AMQP queue with neither gaps nor
duplicates, and resuming from its state file.

The log's order is (tx_id, position): the order the relay publishes in and the feed
reads in. Positions alone are not that order.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pika
import psycopg
import pytest
import requests

from contracts.envelope import envelope
from eventlog.model import NewEvent
from eventlog.store import EventStore
from services.audit import feed
from tests.conftest import wait_for_horizon
from tests.integration.relay_helpers import new_district

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "integrator.py"
NEW = {
    "channel": "12345",
    "kind": "complaint",
    "category": "slow_action",
    "description": "营业执照换证拖了两个月",
    "complainant": {"name": "赵六", "phone": "13500003333"},
}


def until(what, timeout=30.0, step=0.05, name="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {name}")


def complaints(platform, n, district="binhai") -> list[str]:
    """`n` complaints registered over HTTP: their streams."""
    made = []
    for _ in range(n):
        r = platform.post("/v1/complaints", "intake", district=district, json=NEW)
        assert r.status_code == 201, r.text
        made.append(f"complaint-{r.json()['id']}")
    return made


def log_of(database, district) -> list[str]:
    """The district's event ids in the log's order."""
    with psycopg.connect(database.admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT event_id::text FROM eventlog.events WHERE district = %s"
            " ORDER BY tx_id, position",
            (district,),
        ).fetchall()
    return [r[0] for r in rows]


def events_of(database, streams) -> list[str]:
    with psycopg.connect(database.admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT event_id::text FROM eventlog.events WHERE stream_id = ANY(%s)",
            (list(streams),),
        ).fetchall()
    return [r[0] for r in rows]


def published(database, streams) -> bool:
    """Whether a relay has published (and recorded past) every event of `streams`."""
    with psycopg.connect(database.admin, autocommit=True) as conn:
        left = conn.execute(
            "SELECT count(*) FROM eventlog.events e WHERE e.stream_id = ANY(%s)"
            " AND NOT EXISTS (SELECT 1 FROM eventlog.checkpoints c"
            "  WHERE (c.tx_id, c.position) >= (e.tx_id, e.position))",
            (list(streams),),
        ).fetchone()[0]
    return left == 0


def error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()["error"]
    assert body["code"] == code and body["message"]
    return body


def read_feed(platform, after=0, limit=1000, role="integrator", district="binhai"):
    """Every page from `after` until one says there is no more."""
    pages = []
    while True:
        r = platform.get(
            f"/v1/events?after={after}&limit={limit}", role, district=district
        )
        assert r.status_code == 200, r.text
        pages.append(r.json())
        after = pages[-1]["after"]
        if not pages[-1]["more"]:
            return pages


# ---- the feed, on the store: order, pages, positions -------------------------------


def append(store, district, n=1):
    stream = f"thing-{new_district()}"
    new = [NewEvent(type="ThingHappened", data={}, actor="test") for _ in range(n)]
    return store.append(stream, district, 0, new)


def test_pages_follow_the_log_and_say_when_there_is_more(store):
    district = new_district()
    made = append(store, district, 5)
    wait_for_horizon(store.conn, max(e.tx_id for e in made))
    first = feed.page(store, district, 0, 2)
    assert [e["event_id"] for e in first["events"]] == [
        str(e.event_id) for e in made[:2]
    ]
    assert first["after"] == made[1].position and first["more"] is True
    second = feed.page(store, district, first["after"], 3)
    assert [e["position"] for e in second["events"]] == [e.position for e in made[2:]]
    assert second["more"] is False  # exactly full, and nothing beyond
    at_head = feed.page(store, district, second["after"], 3)
    assert at_head == {"events": [], "after": made[-1].position, "more": False}
    assert first["events"][0] == envelope(made[0])  # what the relay publishes


def test_a_late_commit_with_a_lower_position_is_not_skipped(store, database):
    """B takes its transaction id first but appends after A, which commits first:
    B's event has the higher position and comes first in the log. A reader that
    resumed with `position > after` would never see A's event."""
    district = new_district()
    with psycopg.connect(database.app, autocommit=True) as other:
        late = EventStore(other)
        with late.transaction():
            other.execute("SELECT pg_current_xact_id()")  # B's id, taken first
            a = append(store, district)[0]  # A: commits at once, lower position
            b = append(late, district)[0]
    assert b.position > a.position and b.tx_id < a.tx_id
    page = feed.page(store, district, 0, 1)
    assert [e["position"] for e in page["events"]] == [b.position]
    page = feed.page(store, district, page["after"], 1)
    assert [e["position"] for e in page["events"]] == [a.position]


def test_a_position_outside_the_district_is_refused_as_unknown(store):
    mine, theirs = new_district(), new_district()
    append(store, mine)
    other = append(store, theirs)[0]
    with pytest.raises(feed.UnknownPosition) as refused:
        feed.page(store, mine, other.position, 10)
    with pytest.raises(feed.UnknownPosition) as nothing:
        feed.page(store, mine, 10**15, 10)

    # Whether the position exists in another district is not told.
    def said(exc):
        return re.sub(r"after=[0-9]+", "after=N", str(exc.value))

    assert said(refused) == said(nothing)
    assert str(other.position) in str(refused.value) and theirs not in said(refused)


# ---- the feed over HTTP -----------------------------------------------------------


def test_the_feed_pages_the_district_as_the_relay_publishes_it(platform, database):
    streams = complaints(platform, 3)
    first = events_of(database, streams[:1])[0]
    with psycopg.connect(database.app, autocommit=True) as conn:
        position = conn.execute(
            "SELECT position FROM eventlog.events WHERE event_id = %s", (first,)
        ).fetchone()[0]
    pages = read_feed(platform, after=position, limit=2)
    got = [e for p in pages for e in p["events"]]
    assert all(len(p["events"]) <= 2 for p in pages)
    assert all(p["after"] == p["events"][-1]["position"] for p in pages if p["events"])
    assert not pages[-1]["more"]
    log = log_of(database, "binhai")
    after_first = log[log.index(first) + 1 :]
    assert [e["event_id"] for e in got] == after_first[: len(got)]
    assert set(events_of(database, streams[1:])) <= {e["event_id"] for e in got}
    with psycopg.connect(database.app, autocommit=True) as conn:
        store = EventStore(conn)
        for item in got[:5]:  # the very envelopes of the log
            (event,) = [
                e
                for e in store.read_stream(item["stream_id"])
                if e.position == item["position"]
            ]
            assert item == envelope(event)


def test_an_integrator_sees_only_its_own_district(platform, database):
    theirs = complaints(platform, 1, district="jinghai")
    mine = complaints(platform, 1)
    got = [e for p in read_feed(platform) for e in p["events"]]
    assert {e["district"] for e in got} == {"binhai"}
    ids = {e["event_id"] for e in got}
    assert set(events_of(database, mine)) <= ids
    assert not set(events_of(database, theirs)) & ids
    # Another district's position is as unknown as a position that is no event's.
    (jinghai_event,) = events_of(database, theirs)[:1]
    with psycopg.connect(database.app, autocommit=True) as conn:
        position = conn.execute(
            "SELECT position FROM eventlog.events WHERE event_id = %s",
            (jinghai_event,),
        ).fetchone()[0]
    body = error(
        platform.get(f"/v1/events?after={position}", "integrator"),
        422,
        "unknown_position",
    )
    assert str(position) in body["message"] and "jinghai" not in body["message"]
    error(
        platform.get("/v1/events?after=999999999999", "integrator"),
        422,
        "unknown_position",
    )


@pytest.mark.parametrize(
    "query",
    [
        "after=-1",
        "after=abc",
        "after=1.5",
        "after=",
        "after=99999999999999999999",
        "limit=0",
        "limit=1001",
        "limit=ten",
        "district=jinghai",
        "after=0&after=1",
    ],
)
def test_bad_feed_queries_get_422_naming_the_problem(platform, query):
    error(platform.get(f"/v1/events?{query}", "integrator"), 422, "invalid")


@pytest.mark.parametrize("role", ["integrator", "inspector", "admin", "city"])
def test_those_who_follow_the_log_may_read_the_feed(platform, role):
    r = platform.get("/v1/events?limit=1", role)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"events", "after", "more"}


def test_others_may_not_read_the_feed(platform):
    error(platform.get("/v1/events", "unit_handler", unit="housing"), 403, "forbidden")
    error(platform.get("/v1/events", "intake"), 403, "forbidden")
    error(platform.get("/v1/events"), 401, "unauthenticated")


def test_the_asyncapi_document_needs_no_token(platform):
    r = platform.get("/v1/asyncapi.json")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["asyncapi"].startswith("3.")


# ---- the example, as its own process ------------------------------------------------


class Gate:
    """An HTTP hop between the example and the gateway that holds the first request
    until opened: the test then knows the example has bound its queue (it does that
    first) and can make events before the catch-up reads anything."""

    def __init__(self, upstream: str):
        self.arrived, self.opened = threading.Event(), threading.Event()
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                gate.arrived.set()
                gate.opened.wait(60)
                r = requests.get(
                    upstream + self.path,
                    headers={"Authorization": self.headers.get("Authorization", "")},
                    timeout=30,
                )
                self.send_response(r.status_code)
                self.send_header("Content-Type", r.headers["Content-Type"])
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.opened.set()
        self.server.shutdown()
        self.server.server_close()


class Example:
    """docs/examples/integrator.py in a subprocess; its output and progress in files."""

    def __init__(self, tmp_path, platform, amqp_uri, api, run, queue):
        self.out = tmp_path / f"out-{run}.jsonl"
        self.err = tmp_path / f"err-{run}.txt"
        with self.err.open("w") as err:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    str(EXAMPLE),
                    *("--api", api, "--amqp", amqp_uri, "--district", "binhai"),
                    *("--queue", queue, "--state", str(tmp_path / "state.json")),
                    *("--out", str(self.out), "--page-size", "50", "--idle", "3"),
                ],
                env={**os.environ, "LIUHEN_TOKEN": platform.token("integrator")},
                stdout=subprocess.DEVNULL,
                stderr=err,
                cwd=tmp_path,
            )

    def progress(self) -> str:
        return self.err.read_text() if self.err.exists() else ""

    def handled(self) -> list[dict]:
        if not self.out.exists():
            return []
        lines = self.out.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def has(self, event_ids) -> bool:
        return set(event_ids) <= {e["event_id"] for e in self.handled()}

    def finish(self, timeout=60) -> dict:
        """Waits for the idle stop; the counts of its last progress line."""
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        assert code == 0, self.progress()
        progress = self.progress()
        assert progress.strip().splitlines()[-1].startswith("integrator: stopped")
        return {
            "stale": int(re.search(r"; (\d+) stale", progress)[1]),
            "dropped": int(re.search(r"dropped (\d+) already", progress)[1]),
        }


@pytest.fixture
def queue(amqp_uri):
    name = f"integrator.test.{new_district()}"
    yield name
    with pika.BlockingConnection(pika.URLParameters(amqp_uri)) as connection:
        connection.channel().queue_delete(name)


def assert_follows_the_log(database, handled: list[dict]) -> None:
    """Exactly the district's log from its start, in its order, each event once."""
    ids = [e["event_id"] for e in handled]
    assert len(ids) == len(set(ids)), "an event was handled twice"
    assert {e["district"] for e in handled} == {"binhai"}
    log = log_of(database, "binhai")
    assert ids == log[: len(ids)]


def test_the_example_catches_up_then_follows_the_queue_without_gaps_or_duplicates(
    platform, database, amqp_uri, tmp_path, queue
):
    before = complaints(platform, 3)
    gate = Gate(platform.base)
    try:
        example = Example(tmp_path, platform, amqp_uri, gate.url, 1, queue)
        assert gate.arrived.wait(30), example.progress()  # bound; catch-up held
        assert "bound to liuhen.events with binhai.#" in example.progress()
        # Published into its queue AND in the log before the catch-up reads: these
        # come both ways, and must be handled once.
        during = complaints(platform, 3)
        until(lambda: published(database, during), name="the relay")
        gate.opened.set()
        until(lambda: "live on queue" in example.progress(), name="the switch")
        after = complaints(platform, 3) + complaints(platform, 1, district="jinghai")
        mine = events_of(database, before + during + after[:3])
        until(lambda: example.has(mine), name="the live events")
        so_far = log_of(database, "binhai")  # all committed before it stopped
        counts = example.finish()
    finally:
        gate.close()
    handled = example.handled()
    assert_follows_the_log(database, handled)
    assert set(so_far) <= {e["event_id"] for e in handled}
    assert counts["stale"] == 0  # a new queue
    assert counts["dropped"] >= len(events_of(database, during))
    assert not set(events_of(database, after[3:])) & {e["event_id"] for e in handled}


def test_the_example_resumes_from_its_state_file(
    platform, database, amqp_uri, tmp_path, queue
):
    first = Example(tmp_path, platform, amqp_uri, platform.base, 1, queue)
    first.finish()
    between = complaints(platform, 3)  # while it is away: into its durable queue
    until(lambda: published(database, between), name="the relay")
    second = Example(tmp_path, platform, amqp_uri, platform.base, 2, queue)
    counts = second.finish()
    one, two = first.handled(), second.handled()
    assert one and two
    assert not {e["event_id"] for e in one} & {e["event_id"] for e in two}
    assert_follows_the_log(database, one + two)
    assert set(events_of(database, between)) <= {e["event_id"] for e in two}
    # What waited in the queue came over HTTP too, and was dropped unread.
    assert counts["stale"] >= len(between) and counts["dropped"] >= len(between)
