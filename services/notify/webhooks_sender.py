"""The webhook sender: claim due deliveries, POST them signed, record each outcome.

Why claim-then-send rather than hold `FOR UPDATE` across the POST: a row lock gives
the transaction an id, and the relay publishes only events of transactions older than
the oldest one still running (eventlog/store.py, TAIL). A transaction held open for a
receiver's 15 seconds would hold back every event of the platform for as long. So a
claim is one short statement: it takes due rows with FOR UPDATE SKIP LOCKED (senders
of other instances skip them instead of waiting) and moves their due time a lease
ahead, then commits. The POSTs run outside any transaction, concurrently; each outcome
is recorded by handle() in its own short transaction, which sets the next due time or
removes the row. A sender that dies mid-way leaves rows whose lease expires: they are
sent again with the same webhook-id, and the receiver deduplicates (the specification
asks it to). Two senders whose leases overlapped record one outcome: the domain
ignores an outcome for an attempt already recorded.
"""

import random
from dataclasses import dataclass
from datetime import timedelta

import requests
from eventlet import GreenPool

from eventlog.handler import handle
from eventlog.tenancy import all_districts, district_scope

from . import webhooks_domain as d
from . import webhooks_read as read
from .webhooks_secrets import Sealer
from .webhooks_signing import headers

CLAIM = """
UPDATE notify.webhook_due SET due_at = %(lease)s
 WHERE delivery_id IN (SELECT delivery_id FROM notify.webhook_due
                        WHERE due_at <= %(now)s ORDER BY due_at
                        LIMIT %(batch)s FOR UPDATE SKIP LOCKED)
RETURNING delivery_id, district
"""
LEASE_MARGIN = 30  # seconds beyond the request timeout


@dataclass(frozen=True)
class Settings:
    policy: d.Policy
    timeout: float
    batch: int
    sealer: Sealer


@dataclass(frozen=True)
class Job:
    delivery_id: str
    district: str
    attempt: int
    url: str
    headers: dict
    body: bytes


def claim(store, now, settings: Settings) -> list[tuple[str, str]]:
    lease = now + timedelta(seconds=settings.timeout + LEASE_MARGIN)
    params = {"lease": lease, "now": now, "batch": settings.batch}
    # The sender's one cross-district statement (the queue's policy admits it with
    # the marker only); everything else it does to a row, it does in its district.
    with all_districts(store.conn):
        return store.conn.execute(CLAIM, params).fetchall()


def prepare(store, settings: Settings, did, district, now) -> Job | None:
    """The signed request of the next attempt; None when there is nothing to send."""
    row = read.outbound(store.conn, district, did)
    if row is None or row["status"] != "pending":  # recorded meanwhile
        with district_scope(store.conn, district):
            store.conn.execute(
                "DELETE FROM notify.webhook_due WHERE delivery_id = %s", (did,)
            )
        return None
    if row["subscription_status"] != "active":
        _record(store, did, district, lambda s: d.drop(s, d.Drop("removed"), now))
        return None
    secret = settings.sealer.open(row["subscription_id"], row["sealed"])
    body = row["body"].encode("utf-8")
    signed = headers(secret, did, int(now.timestamp()), body)
    return Job(did, district, row["attempts"] + 1, row["url"], signed, body)


def post(job: Job, timeout: float) -> tuple[int | None, str | None]:
    """(HTTP status, None) or (None, a short error). The response body is never read:
    a receiver's answer is not ours to keep. Redirects are not followed (the
    specification counts a 3xx as a failure; following one could also lead inside)."""
    try:
        with requests.post(
            job.url,
            data=job.body,
            headers=job.headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            return response.status_code, None
    except requests.Timeout:
        return None, "timeout"
    except requests.ConnectionError:
        return None, "connection failed"
    except requests.RequestException as exc:
        return None, type(exc).__name__


def _record(store, did, district, decide):
    return handle(
        store,
        f"delivery-{did}",
        district,
        fold=d.fold,
        decide=decide,
        project=read.apply,
    )


def send_due(store, settings: Settings, clock, log) -> dict:
    """One round: claim, send concurrently, record. Returns counts for the log."""
    now = clock()
    jobs = []
    for did, district in claim(store, now, settings):
        try:
            job = prepare(store, settings, did, district, now)
        except Exception as exc:  # one bad row must not stop the round
            log.error("webhook not prepared", delivery_id=did, error=str(exc))
            continue
        jobs += [job] if job else []
    if not jobs:
        return {}
    results = list(GreenPool(len(jobs)).imap(lambda j: post(j, settings.timeout), jobs))
    counts = {"delivered": 0, "failed": 0}
    done = clock()
    for job, (status, error) in zip(jobs, results, strict=True):
        got = d.Outcome(job.attempt, status, error, random.random())
        try:
            _record(
                store,
                job.delivery_id,
                job.district,
                lambda s, got=got: d.record(s, got, done, settings.policy),
            )
        except Exception as exc:
            log.error(
                "webhook outcome not recorded",
                delivery_id=job.delivery_id,
                error=str(exc),
            )
            continue
        ok = status is not None and 200 <= status < 300
        counts["delivered" if ok else "failed"] += 1
    return counts
