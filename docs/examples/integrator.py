#!/usr/bin/env python3
"""Follow one district's events of Liuhen: catch up over HTTP, then live over AMQP,
with neither gaps nor duplicates. docs/integrators.md explains why it works.

    export LIUHEN_TOKEN=lh_...          # an integrator token of the district
    python integrator.py --api http://127.0.0.1:8000 \\
        --amqp amqp://user:password@rabbit.example:5672/liuhen \\
        --district binhai --state binhai.state.json --out binhai.jsonl [--idle 60]

Each event handled is written to --out as one JSON line (the envelope as published),
and its position saved to --state right after. Run it again with the same state file
and it resumes where it stopped. Needs Python 3.11 or later and pika; nothing else.

Progress goes to stderr, one line at a time, starting with "integrator:".
"""

import argparse
import collections
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pika

EXCHANGE = "liuhen.events"
HTTP_ATTEMPTS = 6


def log(message: str) -> None:
    print(f"integrator: {message}", file=sys.stderr, flush=True)


class State:
    """Where the integrator stands: the position of the last event it handled, and
    the ids of the last `window` events it handled, to recognise an event delivered
    again (at-least-once delivery). Saved whole to a temporary file that replaces the
    old one, so a crash leaves either the old state or the new, never half of one."""

    def __init__(self, path: str, district: str, window: int):
        self.path, self.district = path, district
        self.position = 0  # 0: from the start of the log
        self.recent: collections.deque[str] = collections.deque(maxlen=window)
        self._recent: set[str] = set()
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
            if saved["district"] != district:
                sys.exit(f"{path} is district {saved['district']}'s, not {district}'s")
            self.position = saved["position"]
            for event_id in saved["recent"]:
                self._remember(event_id)

    def seen(self, event_id: str) -> bool:
        return event_id in self._recent

    def handled(self, envelope: dict) -> None:
        self.position = envelope["position"]
        self._remember(envelope["event_id"])
        saved = {
            "district": self.district,
            "position": self.position,
            "recent": list(self.recent),
        }
        # Atomic against a crash of this process. Against a power cut, also call
        # os.fsync before the rename (a few milliseconds an event).
        with open(self.path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(saved, f)
        os.replace(self.path + ".tmp", self.path)

    def _remember(self, event_id: str) -> None:
        if len(self.recent) == self.recent.maxlen:
            self._recent.discard(self.recent[0])
        self.recent.append(event_id)
        self._recent.add(event_id)


class Integrator:
    def __init__(self, args, token: str):
        self.args, self.token = args, token
        self.amqp = pika.URLParameters(args.amqp)
        self.state = State(args.state, args.district, args.window)
        self.out = (
            sys.stdout if args.out == "-" else open(args.out, "a", encoding="utf-8")
        )
        self.counts = collections.Counter()
        self.stopping = False
        self.stale, self.caught_up = 0, set()

    # -- what the integrator does with an event ---------------------------------

    def handle(self, envelope: dict, how: str) -> None:
        """The effect (here: one JSON line), then the position. A crash between the
        two handles this event again on the next run; an integrator that writes to a
        database stores the position in the same transaction as the effect."""
        self.out.write(json.dumps(envelope, ensure_ascii=False) + "\n")
        self.out.flush()
        self.state.handled(envelope)
        self.counts[how] += 1

    # -- 1. the queue, bound before anything is read -----------------------------

    def bind(self) -> int:
        """Declare the queue and bind it, and return how many messages it already
        holds: all of them were published before now, so the catch-up returns them
        (or they were handled before): they are acknowledged unread."""
        with pika.BlockingConnection(self.amqp) as connection:
            channel = connection.channel()
            declared = channel.queue_declare(
                self.args.queue,
                durable=True,
                arguments={"x-queue-type": "quorum"},  # replicated in a cluster
            )
            key = f"{self.args.district}.#"
            channel.queue_bind(self.args.queue, EXCHANGE, routing_key=key)
        stale = declared.method.message_count
        log(f"queue {self.args.queue} bound to {EXCHANGE} with {key}; {stale} stale")
        return stale

    # -- 2. catch up over HTTP -------------------------------------------------

    def catch_up(self) -> set[str]:
        """Every event after the saved position, page by page, until a page says
        there is no more. Returns the ids it handled."""
        got = set()
        while not self.stopping:
            page = self.page(self.state.position)
            for envelope in page["events"]:
                self.handle(envelope, "http")
                got.add(envelope["event_id"])
            if not page["more"]:
                break
        log(f"caught up to position {self.state.position}: {len(got)} over HTTP")
        return got

    def page(self, after: int) -> dict:
        query = urllib.parse.urlencode({"after": after, "limit": self.args.page_size})
        url = f"{self.args.api.rstrip('/')}/v1/events?{query}"
        request = urllib.request.Request(
            url,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
            },
        )
        for attempt in range(HTTP_ATTEMPTS):
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return json.load(response)
            except urllib.error.HTTPError as exc:
                problem = f"{exc.code} {exc.read().decode('utf-8', 'replace')}"
                if exc.code < 500:  # the token, its role or `after`: ask a person
                    sys.exit(f"integrator: GET {url}: {problem}")
            except (urllib.error.URLError, OSError) as exc:
                problem = str(exc)
            delay = min(30.0, 0.5 * 2**attempt)
            log(f"GET {url} failed ({problem}); again in {delay:g} s")
            time.sleep(delay)
        sys.exit(f"integrator: GET {url} kept failing; the state is saved, run again")

    # -- 3. live from the queue -------------------------------------------------

    def follow(self, stale: int, caught_up: set[str]) -> None:
        """Consume the queue in order until stopped, or idle for --idle seconds."""
        self.stale, self.caught_up = stale, caught_up
        idle, tick = self.args.idle, min(1.0, self.args.idle or 1.0)
        with pika.BlockingConnection(self.amqp) as connection:
            channel = connection.channel()
            channel.basic_qos(prefetch_count=self.args.prefetch)
            log(f"live on queue {self.args.queue}")
            quiet_since = time.monotonic()
            # Exclusive: a second copy of this program must not take half the events.
            for method, _, body in channel.consume(
                self.args.queue, exclusive=True, inactivity_timeout=tick
            ):
                if method is not None:
                    quiet_since = time.monotonic()
                    self.receive(body)
                    # Acknowledged once handled and saved: a crash before this line
                    # gets the message again, which `seen` then recognises.
                    channel.basic_ack(method.delivery_tag)
                quiet = time.monotonic() - quiet_since
                if self.stopping or (idle is not None and quiet >= idle):
                    break
            channel.cancel()  # what was prefetched but not handled goes back

    def receive(self, body: bytes) -> None:
        """One message of the queue, which holds in the log's order: `stale`
        messages from before this run (published before the binding, so the
        catch-up returned them or an earlier run handled them), then everything
        published since the binding. The first of those may have come over HTTP too
        (`caught_up`). Once one message is new, nothing of the catch-up can follow
        (same order): only the recent ids are kept then, for redeliveries."""
        if self.stale:
            self.stale -= 1
            self.counts["dropped"] += 1
            return
        envelope = json.loads(body)
        event_id = envelope["event_id"]
        if event_id in self.caught_up or self.state.seen(event_id):
            self.counts["dropped"] += 1
            return
        self.caught_up.clear()
        self.handle(envelope, "amqp")

    def run(self) -> None:
        stale = self.bind()  # first: nothing published from now on can be missed
        caught_up = self.catch_up()
        if not self.stopping:
            self.follow(stale, caught_up)
        c = self.counts
        log(
            f"stopped at position {self.state.position}: handled "
            f"{c['http'] + c['amqp']} ({c['http']} over HTTP, {c['amqp']} from the "
            f"queue), dropped {c['dropped']} already handled"
        )


def arguments(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--api", required=True, help="the gateway's base URL")
    p.add_argument("--amqp", required=True, help="amqp://user:password@host:port/vhost")
    p.add_argument("--district", required=True, help="the token's district")
    p.add_argument("--queue", help="your queue (default: integrator.<district>)")
    p.add_argument("--state", help="state file (default: <district>.state.json)")
    p.add_argument("--out", default="-", help="JSON lines file to append to (- stdout)")
    p.add_argument(
        "--page-size",
        type=int,
        default=500,
        choices=range(1, 1001),
        metavar="1-1000",
        help="events per HTTP page",
    )
    p.add_argument(
        "--idle",
        type=float,
        help="stop after this many seconds without a"
        " message (default: run until SIGINT or SIGTERM)",
    )
    p.add_argument(
        "--window",
        type=int,
        default=1000,
        help="recent ids kept to"
        " recognise redeliveries (at least one relay batch: 500)",
    )
    p.add_argument("--prefetch", type=int, default=100)
    args = p.parse_args(argv)
    args.queue = args.queue or f"integrator.{args.district}"
    args.state = args.state or f"{args.district}.state.json"
    if args.window < 1 or args.prefetch < 1:
        p.error("--window and --prefetch must be at least 1")
    return args


def main(argv=None) -> None:
    args = arguments(argv)
    token = os.environ.get("LIUHEN_TOKEN")  # not an argument: `ps` shows arguments
    if not token:
        sys.exit("integrator: set LIUHEN_TOKEN to an integrator token")
    integrator = Integrator(args, token)

    def stop(signum, frame):
        integrator.stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        integrator.run()
    except KeyboardInterrupt:
        log(f"interrupted at position {integrator.state.position}")
        sys.exit(130)


if __name__ == "__main__":
    main()
