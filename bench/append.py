"""bench/append: events/s through the event log against the machine's own ceiling.

In one run, on a throwaway database:
- the ceiling: plain single-row autocommit INSERTs into a table with the same columns
  and indexes as eventlog.events (no hashing, no version check), 1 and 8 writers;
- the event log: `EventStore.append` of one event per transaction onto streams of 10
  events (each append looks up its predecessor's hash), 1 and 8 writers;
- their ratio (target: at least 0.70 at 8 writers);
- relay lag (recorded_at -> received by an AMQP subscriber), p50/p99, while 8 writers
  append at half the measured 8-writer rate (target: p99 under 100 ms).
Writers are processes, so Python's GIL does not cap either side. Each figure is the
median of several rounds: the machine is shared and noisy, so read ratios, not seconds.

    make bench   (or: .venv/bin/python bench/append.py [--seconds 4] [--rounds 5])
"""

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import psycopg  # noqa: E402

from bench.common import bench_database, median, percentile, save  # noqa: E402
from eventlog.model import NewEvent  # noqa: E402
from eventlog.relay import EXCHANGE, connect_amqp  # noqa: E402
from eventlog.store import EventStore  # noqa: E402
from eventlog.tenancy import all_districts  # noqa: E402
from eventlog.waker import Waker  # noqa: E402

STREAM_LENGTH = 10
DATA = {
    "channel": "12345",
    "unit": "binhai-u03",
    "category": "inaction",
    "summary": "窗口工作人员推诿，要求补交材料三次",
}

CEILING_SQL = """
INSERT INTO bench.ceiling (event_id, stream_id, stream_version, district, type,
    schema_version, data, actor, reason, correlation_id, causation_id, occurred_at,
    recorded_at, prev_hash, hash)
VALUES (%s, %s, %s, 'binhai', 'ComplaintUpdated', 1, %s, 'bench', 'bench', %s, NULL,
        now(), now(), %s, %s)
"""


def prepare_ceiling(admin):
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS bench")
        # Same columns, defaults, constraints and indexes; the triggers (UPDATE, DELETE,
        # TRUNCATE only) do not fire on INSERT, so leaving them out changes nothing.
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench.ceiling "
            "(LIKE eventlog.events INCLUDING ALL)"
        )
        conn.execute("GRANT USAGE ON SCHEMA bench TO liuhen_writer")
        conn.execute("GRANT SELECT, INSERT ON bench.ceiling TO liuhen_writer")


def ceiling_writer(app, seconds, start, out):
    from psycopg.types.json import Jsonb

    with psycopg.connect(app, autocommit=True) as conn:
        n, stream, version = 0, None, STREAM_LENGTH
        start.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if version == STREAM_LENGTH:
                stream, version = f"complaint-{uuid.uuid4().hex}", 0
            version += 1
            conn.execute(
                CEILING_SQL,
                (
                    uuid.uuid4(),
                    stream,
                    version,
                    Jsonb(DATA),
                    stream,
                    os.urandom(32),
                    os.urandom(32),
                ),
            )
            n += 1
        out.put(n)


def log_writer(app, seconds, start, out, rate=None):
    """Appends one event per transaction, as a service would (a Waker per process wakes
    the relay); `rate` paces it (events/s for this writer)."""
    with psycopg.connect(app, autocommit=True) as conn:
        store = EventStore(conn, waker=Waker(app))
        n, stream, version = 0, None, STREAM_LENGTH
        start.wait()
        began = time.monotonic()
        deadline = began + seconds
        while time.monotonic() < deadline:
            if rate:
                pause = began + n / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            if version == STREAM_LENGTH:
                stream, version = f"complaint-{uuid.uuid4().hex}", 0
            store.append(
                stream, "binhai", version, [NewEvent("ComplaintUpdated", DATA, "bench")]
            )
            version += 1
            n += 1
        out.put(n)


def run_writers(target, args, writers, seconds) -> float:
    """events/s of `writers` processes running `target` for `seconds`."""
    start, out = mp.Event(), mp.Queue()
    procs = [
        mp.Process(target=target, args=(*args, seconds, start, out))
        for _ in range(writers)
    ]
    for p in procs:
        p.start()
    time.sleep(0.5)  # all connected
    start.set()
    total = sum(out.get(timeout=seconds + 60) for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def paced_writer(app, rate, seconds, start, out):
    log_writer(app, seconds, start, out, rate=rate)


def relay_lag(admin, app, amqp_uri, rate, seconds, writers=8):
    """Lag from recorded_at to receipt by a subscriber while appending at `rate`; the
    relay runs as its own process (`liuhen relay`), as in production."""
    conn = connect_amqp(amqp_uri)
    channel = conn.channel()
    channel.exchange_declare(EXCHANGE, "topic", durable=True, auto_delete=False)
    queue = f"bench.{uuid.uuid4().hex[:8]}"
    channel.queue_declare(queue, durable=False, auto_delete=False, exclusive=True)
    channel.queue_bind(queue, EXCHANGE, "binhai.#")
    lags = []

    def on_message(msg):
        received = datetime.now(UTC)
        recorded = datetime.fromisoformat(json.loads(msg.body)["recorded_at"])
        lags.append((received - recorded).total_seconds() * 1000)

    channel.basic_consume(queue, callback=on_message, no_ack=True)
    name = f"bench-{uuid.uuid4().hex[:6]}"
    skip_to_head(app, name)  # lag is measured on new events only
    env = {**os.environ, "LIUHEN_DATABASE_URL": admin, "LIUHEN_AMQP_URI": amqp_uri}
    relay = subprocess.Popen(
        [sys.executable, "-m", "liuhen", "relay", "--name", name],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.5)
    done = threading.Event()
    feeder = threading.Thread(
        target=lambda: (
            run_writers(paced_writer, (app, rate / writers), writers, seconds),
            done.set(),
        )
    )
    feeder.start()
    end = None
    while end is None or time.monotonic() < end:
        if end is None and done.is_set():
            end = time.monotonic() + 3  # let the last ones arrive
        try:
            conn.drain_events(timeout=0.2)
        except TimeoutError:
            pass
    relay.terminate()
    relay.wait(timeout=15)
    conn.close()
    return lags


def skip_to_head(app, name):
    with psycopg.connect(app, autocommit=True) as c, all_districts(c):
        c.execute(
            "INSERT INTO eventlog.checkpoints (name, tx_id, position) "
            "SELECT %s, coalesce(max(tx_id::text::bigint), 0)::text::xid8, "
            "coalesce(max(position), 0) FROM eventlog.events",
            (name,),
        )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--lag-seconds", type=float, default=10.0)
    ap.add_argument(
        "--lag-rates",
        default="",
        help="also measure relay lag at these rates (events/s), e.g. 500,1000,2000",
    )
    args = ap.parse_args(argv)
    amqp_uri = os.environ.get("LIUHEN_AMQP_URI", "amqp://guest:guest@localhost:5672/")
    figures = {"seconds": args.seconds, "rounds": args.rounds}
    with bench_database("liuhen_bench") as (admin, app):
        prepare_ceiling(admin)
        for writers in (1, 8):
            ceiling, log = [], []
            for _ in range(args.rounds):  # interleaved, so drift hits both alike
                ceiling.append(
                    run_writers(ceiling_writer, (app,), writers, args.seconds)
                )
                log.append(run_writers(log_writer, (app,), writers, args.seconds))
            c, e = median(ceiling), median(log)
            figures[f"w{writers}"] = {
                "ceiling_per_s": round(c),
                "eventlog_per_s": round(e),
                "ratio": round(e / c, 3),
                "ceiling_rounds": ceiling,
                "eventlog_rounds": log,
            }
            print(
                f"{writers} writer(s): ceiling {c:8.0f}/s   event log {e:8.0f}/s   "
                f"ratio {e / c:.2f}",
                flush=True,
            )
        rate = figures["w8"]["eventlog_per_s"] / 2
        lags = relay_lag(admin, app, amqp_uri, rate, args.lag_seconds)
        figures["relay"] = {
            "rate_per_s": round(rate),
            "received": len(lags),
            "lag_ms_p50": round(percentile(lags, 0.5), 1),
            "lag_ms_p99": round(percentile(lags, 0.99), 1),
        }
        r = figures["relay"]
        print(
            f"relay lag at {r['rate_per_s']}/s (half the 8-writer rate): "
            f"p50 {r['lag_ms_p50']} ms, p99 {r['lag_ms_p99']} ms "
            f"over {r['received']} events"
        )
        for rate in [int(r) for r in args.lag_rates.split(",") if r.strip()]:
            lags = relay_lag(admin, app, amqp_uri, rate, args.lag_seconds)
            figures[f"relay_at_{rate}"] = row = {
                "received": len(lags),
                "lag_ms_p50": round(percentile(lags, 0.5), 1),
                "lag_ms_p99": round(percentile(lags, 0.99), 1),
            }
            print(
                f"relay lag at {rate}/s: p50 {row['lag_ms_p50']} ms, "
                f"p99 {row['lag_ms_p99']} ms over {row['received']} events"
            )
    ok8 = figures["w8"]["ratio"] >= 0.70
    ok_lag = figures["relay"]["lag_ms_p99"] < 100
    print(
        f"targets: 8 writers >= 0.70 of ceiling: {'met' if ok8 else 'MISSED'}; "
        f"relay p99 < 100 ms: {'met' if ok_lag else 'MISSED'}"
    )
    print(f"saved {save('append', figures)}")


if __name__ == "__main__":
    main()
