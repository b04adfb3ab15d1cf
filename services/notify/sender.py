"""The sender: emails and SMS whose time has come, from the outbox, each recorded.

Guarantee: at least once. Every notification is sent until one outcome is recorded
(Sent, or Abandoned after its last attempt); a message may reach its recipient twice,
never zero times while the outbox holds it.

Why no transaction spans a send: a transaction that locks or writes a row takes a
transaction id, and the relay publishes only events of transactions older than the
oldest one still open (eventlog/store.py, TAIL). One SMTP server sitting on a message
for its timeout would hold back every event of the platform for as long. So, as the
webhook sender does (webhooks_sender.py):
1. claim: one statement takes due outbox rows (FOR UPDATE SKIP LOCKED: instances skip
   each other's rows instead of waiting) and moves their due time a lease ahead, then
   commits;
2. prepare: read the row, the template and a person's address in a short read-only
   transaction; ask the complaints service for a complainant's contact (an RPC)
   outside any transaction;
3. renew: one statement moves the lease ahead again, for the rows whose due time is
   still this round's lease; a row another sender has claimed meanwhile is dropped;
4. send, concurrently, outside any transaction; each send is bounded by
   channels.DEADLINE, shorter than the lease;
5. record each outcome with handle() in its own short transaction, which deletes the
   outbox row or sets its retry time.
The duplicate window: a sender that dies (or stalls past its lease) after a server
accepted a message but before its record commits leaves the row to be claimed again
when the lease runs out, and the message goes again. SMTP and the SMS gateways have
no idempotency key, so no protocol here can close that window; it is one send long.
Two senders whose leases overlapped record once: the notification's stream decides
(`outcome`): nothing after Sent or Abandoned, and no second failure of one attempt.

Addresses are looked up now, not stored: the complainant's from the complaints
service, a person's from the directory. The complainant's name joins the rendering
context only here, and only for a complainant's own notification.
"""

from dataclasses import dataclass, replace
from datetime import timedelta

from eventlet import GreenPool

from eventlog.handler import handle
from eventlog.model import NewEvent
from eventlog.tenancy import all_districts, district_scope

from . import handlers, projections, schedule, settings
from .channels import DEADLINE, DeliveryError

BATCH = 20
POSTPONE = timedelta(minutes=5)
LEASE = timedelta(seconds=DEADLINE + 30)  # the send, plus the RPC and the record
CLAIM = """
UPDATE notify.outbox SET due_at = %(lease)s
 WHERE notification_id IN (SELECT notification_id FROM notify.outbox
                            WHERE due_at <= %(now)s ORDER BY due_at
                            LIMIT %(batch)s FOR UPDATE SKIP LOCKED)
RETURNING notification_id, district
"""
RENEW = """
UPDATE notify.outbox SET due_at = %(lease)s
 WHERE notification_id = ANY(%(ids)s) AND due_at = %(claimed)s
RETURNING notification_id
"""
MOVE = "UPDATE notify.outbox SET due_at = %s WHERE notification_id = %s AND due_at = %s"
ROW = (
    "SELECT kind, recipient, channel, context, attempts, status, correlation_id,"
    " source_event_id FROM notify.notifications WHERE id = %s"
)
FINAL = frozenset({"NotificationSent", "NotificationAbandoned"})


class Permanent(DeliveryError):
    """Retrying cannot help (no address): abandoned at once."""


@dataclass(frozen=True)
class Progress:
    """A notification's stream, folded: what its outcome may still be."""

    queued: bool = False
    final: bool = False
    attempts: int = 0


def progress(history) -> Progress:
    state = Progress()
    for e in history:
        if e.type == "NotificationQueued":
            state = replace(state, queued=True)
        elif e.type in FINAL:
            state = replace(state, final=True)
        elif e.type == "NotificationFailed":
            state = replace(state, attempts=max(state.attempts, e.data["attempt"]))
    return state


def outcome(state: Progress, event: NewEvent, attempt: int) -> list[NewEvent]:
    """`event`, the outcome of attempt `attempt`, if the stream still wants it. A
    sender whose lease ran out reports late: if another sender's outcome is on record
    already, nothing after Sent or Abandoned, and a failure of an attempt already
    recorded is dropped (the recorded retry time stands). A late Sent after the other
    sender's failure is recorded: the message did go."""
    if not state.queued or state.final:
        return []
    if event.type != "NotificationSent" and state.attempts >= attempt:
        return []
    return [event]


@dataclass(frozen=True)
class Job:
    nid: str
    district: str
    channel: str
    attempt: int
    correlation_id: str | None
    cause: str
    quiet: tuple | None
    address: str = ""
    title: str = ""
    body: str = ""
    error: DeliveryError | None = None  # the lookup failed: record it, send nothing


def send_due(store, clock, channels, contact_of, quiet_of, log) -> dict:
    """One round: claim, prepare, renew, send concurrently, record; counts by
    outcome. `channels` maps email/sms to their send functions; `quiet_of(district)`
    gives its quiet hours; `clock()` the time."""
    done = dict.fromkeys(("sent", "failed", "abandoned", "held", "postponed"), 0)
    done["stale"] = 0  # claimed or recorded by another sender meanwhile
    now = clock()
    claimed = now + LEASE
    # Claiming and renewing leases are the sender's only cross-district statements
    # (the outbox's policy admits them with the marker only); everything else it
    # does to a row, it does in the row's district.
    with all_districts(store.conn):
        params = {"lease": claimed, "now": now, "batch": BATCH}
        rows = store.conn.execute(CLAIM, params).fetchall()
    jobs = []
    for nid, district in rows:
        try:
            job = _prepare(
                store.conn, nid, district, now, claimed, contact_of, quiet_of
            )
        except Exception as exc:  # a bug or the database: out of the way for a while
            _postpone(store, nid, district, now, claimed, exc, log)
            job = "postponed"
        if isinstance(job, str):
            done[job] += 1
        elif job is not None:
            jobs.append(job)
    if jobs:
        _send_all(store, clock, claimed, jobs, channels, log, done)
    return done


def _send_all(store, clock, claimed, jobs, channels, log, done) -> None:
    lease = clock() + LEASE  # a whole lease for the sends, whatever preparing took
    renew = {"lease": lease, "ids": [j.nid for j in jobs], "claimed": claimed}
    with all_districts(store.conn):
        mine = {row[0] for row in store.conn.execute(RENEW, renew)}
    done["stale"] += len(jobs) - len(mine)
    jobs = [j for j in jobs if j.nid in mine]
    pool = GreenPool(max(len(jobs), 1))
    sends = pool.imap(lambda j: _send(j, channels), jobs)
    for job, error in zip(jobs, sends, strict=True):
        if error is None or isinstance(error, DeliveryError):
            result = _record(store, job, error, clock())
        else:  # a bug, not the channel's failure
            result = _postpone(store, job.nid, job.district, clock(), lease, error, log)
        done[result] += 1
        if result != "sent":
            log.info("notification " + result, notification_id=job.nid)


def _postpone(store, nid, district, now, lease, exc, log) -> str:
    """Out of the way for a while: the outbox is taken in due order, so a row that
    fails this way would otherwise stand first in every round."""
    with district_scope(store.conn, district):
        store.conn.execute(MOVE, (now + POSTPONE, nid, lease))
    log.error("notification not sent", notification_id=nid, error=str(exc))
    return "postponed"


def _prepare(conn, nid, district, now, claimed, contact_of, quiet_of):
    """The Job of the next attempt; "held" in quiet hours; None if nothing is due."""
    with district_scope(conn, district):
        row = conn.execute(ROW, (nid,)).fetchone()
        if row is None or row[5] != "queued":  # recorded meanwhile
            conn.execute("DELETE FROM notify.outbox WHERE notification_id = %s", (nid,))
            return None
        kind, recipient, channel, ctx, attempts, _, corr, cause = row
        title, body, _ = settings.template(conn, kind)
        person = _person(conn, recipient, channel)
    quiet = quiet_of(district)
    held = schedule.release(now, channel, quiet)
    if held > now:  # due just before quiet hours began: wait for their end
        with district_scope(conn, district):
            conn.execute(MOVE, (held, nid, claimed))
        return "held"
    job = Job(nid, district, channel, attempts + 1, corr, str(cause), quiet)
    try:  # outside any transaction: the RPC may take its time
        lookup = _lookup(contact_of, nid, kind)
        address, extra = _address(district, recipient, channel, ctx, lookup, person)
    except DeliveryError as exc:
        return replace(job, error=exc)
    title, body = handlers.render(kind, title, body, {**ctx, **extra})
    return replace(job, address=address, title=title, body=body)


def _person(conn, recipient, channel) -> str | None:
    """A person's address from the directory; None for anyone else."""
    kind, _, who = recipient.partition(":")
    if kind != "person":
        return None
    field = "email" if channel == "email" else "phone"
    sql = f"SELECT {field} FROM directory.people WHERE id = %s"
    row = conn.execute(sql, (who,)).fetchone()
    return row[0] if row else None


def _lookup(contact_of, nid, kind):
    """The complainant's contact for notification `nid`: the complaints service
    records the read (actor system:notify), the notification as its reason."""
    return lambda district, ref: contact_of(district, ref, f"notification {nid} {kind}")


def _address(district, recipient, channel, ctx, contact_of, person) -> tuple:
    """(address, extra context) of a recipient, looked up now. An erased
    complainant can never be reached: abandoned at once, not retried."""
    if recipient != "complainant":
        if not person:
            raise Permanent("no address")
        return person, {}
    field = "email" if channel == "email" else "phone"
    try:
        contact = contact_of(district, ctx["ref"])
    except Exception as exc:  # the complaints service is down: try later
        raise DeliveryError(f"contact lookup {type(exc).__name__}") from None
    if contact.get("erased"):
        raise Permanent("complainant erased")
    if contact.get("anonymous") or not contact.get(field):
        raise Permanent("no address")
    return contact[field], {"complainant_name": contact.get("name")}


def _send(job: Job, channels) -> Exception | None:
    if job.error is not None:
        return job.error
    try:
        if job.channel == "email":
            channels["email"](job.address, job.title, job.body)
        else:
            channels["sms"](job.district, job.address, job.body)
    except Exception as exc:  # a DeliveryError is the channel's; others are bugs
        return exc
    return None


def _record(store, job: Job, error: DeliveryError | None, now) -> str:
    """The outcome, in its own short transaction; "stale" if it was not ours."""
    attempt, data = job.attempt, {"channel": job.channel}
    if error is None:
        result, type_, data = "sent", "NotificationSent", {**data, "attempt": attempt}
    else:
        retry = None
        if not isinstance(error, Permanent):
            retry = schedule.retry_at(now, attempt)
        if retry is None:
            result, type_ = "abandoned", "NotificationAbandoned"
            data = {**data, "attempts": attempt, "error": error.code}
        else:
            retry = schedule.release(retry, job.channel, job.quiet)
            result, type_ = "failed", "NotificationFailed"
            data = {**data, "attempt": attempt, "error": error.code}
            data["retry_at"] = retry.isoformat()
    event = NewEvent(
        type_,
        data,
        actor=handlers.SYSTEM,
        occurred_at=now,
        correlation_id=job.correlation_id,
        causation_id=job.cause,
    )
    recorded = handle(
        store,
        f"notification-{job.nid}",
        job.district,
        fold=progress,
        decide=lambda state: outcome(state, event, attempt),
        project=projections.apply,
    )
    return result if recorded else "stale"
