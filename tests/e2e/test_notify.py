"""People hear of every step, through real channels: an SMS gateway and an SMTP
server on localhost receive what notify sends; the event log says who was told what.
"""

import json
import random
import time
from datetime import datetime, timedelta

import psycopg
import structlog
from nameko.standalone.rpc import ClusterRpcProxy

from eventlog.deadlines import TZ
from eventlog.relay import EXCHANGE
from eventlog.store import EventStore
from services.notify import sender
from services.notify.channels import SmsGateways
from tests.e2e.local_servers import wait_for
from tests.integration.amqp_helpers import Subscriber

HOUSING_LEADER = "huangzhigang@binhai.example.gov.cn"
JINGHAI_APPROVALS = "dengwenjie@jinghai.example.gov.cn"


def phone() -> str:
    return "139" + "".join(random.choices("0123456789", k=8))


def complaint(platform, complainant, channel="12345", district="binhai") -> str:
    body = {
        "channel": channel,
        "category": "shirking",
        "description": "办理不动产登记，窗口让我来回跑了五趟。",
        "complainant": complainant,
    }
    r = platform.post("/v1/complaints", "intake", district=district, json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def act(platform, cid, action, district="binhai", **body):
    r = platform.post(
        f"/v1/complaints/{cid}/{action}", "intake", district=district, json=body
    )
    assert r.status_code == 200, r.text


def dispatched(platform, complainant, unit="housing", **kw) -> str:
    cid = complaint(platform, complainant, **kw)
    act(platform, cid, "accept", kw.get("district", "binhai"))
    act(platform, cid, "dispatch", kw.get("district", "binhai"), unit=unit)
    return cid


def set_clock(platform, hour: int, minute: int = 0, days_on: int = 1) -> datetime:
    """Days after the clock's date, at a local time: the clock only moves forward."""
    day = platform.clock.now.astimezone(TZ).date() + timedelta(days=days_on)
    platform.clock.now = datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)
    return platform.clock.now


def notification_events(database, cid) -> list[tuple]:
    with psycopg.connect(database.app, autocommit=True) as conn:
        return conn.execute(
            "SELECT stream_id, type, data, causation_id FROM eventlog.events"
            " WHERE correlation_id = %s AND stream_id LIKE 'notification-%%'"
            " ORDER BY position",
            (f"complaint-{cid}",),
        ).fetchall()


def settled(database, cid) -> bool:
    """Every email and SMS queued for the complaint has its outcome recorded."""
    events = notification_events(database, cid)
    pending = {
        stream
        for stream, type_, data, _ in events
        if type_ == "NotificationQueued" and data["channel"] != "inbox"
    }
    done = {stream for stream, type_, _, _ in events if type_ == "NotificationSent"}
    return bool(pending) and pending <= done


def queued(database, cid, kind) -> list[dict]:
    return [
        data
        for _, type_, data, _ in notification_events(database, cid)
        if type_ == "NotificationQueued" and data["kind"] == kind
    ]


def mentioning(messages, cid) -> list[dict]:
    return [m for m in messages if cid in m.get("subject", "") + m.get("body", "")]


def sms_for(platform, number, cid) -> list[dict]:
    return [m for m in platform.sms.to(number) if cid in m["text"]]


def test_a_dispatched_complaint_texts_the_complainant_and_emails_the_unit(
    platform, database
):
    set_clock(platform, 10)
    number = phone()
    cid = dispatched(platform, {"name": "王秀英", "phone": number})
    texts = wait_for(
        lambda: [m for m in sms_for(platform, number, cid) if "住房" in m["text"]]
    )
    assert len(texts) == 1 and "转交" in texts[0]["text"], platform.sms.to(number)
    assert texts[0]["text"].startswith("王秀英，您好")  # her own SMS may name her
    assert texts[0]["path"] == "/binhai"
    mails = wait_for(lambda: mentioning(platform.mailbox.to(HOUSING_LEADER), cid))
    assert len(mails) == 1 and "转办" in mails[0]["subject"]
    # The unit never learns who complained: not in its email, not in any event.
    assert "王秀英" not in json.dumps(mails, ensure_ascii=False)
    assert number not in json.dumps(mails)
    history = json.dumps(notification_events(database, cid), ensure_ascii=False)
    assert "王秀英" not in history and number not in history
    to_unit = queued(database, cid, "complaint_dispatched.unit")
    assert {(q["recipient"], q["channel"]) for q in to_unit} >= {
        ("person:huang-zhigang", "email"),
        ("unit:housing", "inbox"),
    }
    assert not {"complainant_name", "name", "phone"} & set(to_unit[0]["context"])


def test_every_send_is_recorded_in_the_complaints_history(platform, database):
    set_clock(platform, 10)
    number = phone()
    cid = dispatched(platform, {"phone": number})
    assert wait_for(lambda: len(sms_for(platform, number, cid)) == 2)

    def sent():
        events = notification_events(database, cid)
        return [e for e in events if e[1] == "NotificationSent"]

    wait_for(lambda: len(sent()) >= 4)  # 2 SMS, the unit's email and inbox
    events = notification_events(database, cid)
    to_complainant = [
        e for e in events if e[1] == "NotificationQueued" and e[2]["channel"] == "sms"
    ]
    assert {e[2]["kind"] for e in to_complainant} == {
        "complaint_accepted.complainant",
        "complaint_dispatched.complainant",
    }
    assert all(e[2]["recipient"] == "complainant" for e in to_complainant)
    sent_streams = {e[0] for e in sent()}
    assert {e[0] for e in to_complainant} <= sent_streams
    causes = {e[3] for e in events}  # caused by the complaint's own events
    assert all(c for c in causes)


def test_an_anonymous_complainant_is_told_nothing(platform, database):
    set_clock(platform, 10)
    cid = dispatched(platform, None)
    wait_for(lambda: queued(database, cid, "complaint_dispatched.unit"))
    recipients = {
        e[2]["recipient"]
        for e in notification_events(database, cid)
        if e[1] == "NotificationQueued"
    }
    assert recipients and "complainant" not in recipients


def test_quiet_hours_hold_an_sms_until_morning(platform, database):
    set_clock(platform, 22)
    number = phone()
    cid = complaint(platform, {"phone": number})
    act(platform, cid, "accept")
    held = wait_for(lambda: queued(database, cid, "complaint_accepted.complainant"))
    assert held, "the acceptance was not queued"
    morning = datetime.fromisoformat(held[0]["due_at"]).astimezone(TZ)
    assert (morning.hour, morning.minute) == (8, 0)
    time.sleep(3)  # the sender ticks every second: it would have sent by now
    assert platform.sms.to(number) == []
    set_clock(platform, 8, 1)
    assert wait_for(lambda: sms_for(platform, number, cid)), "not sent in the morning"


STALL = 6.0  # seconds the SMS gateway sits on a message


def idle_transactions(database, longer_than: float = 1.0) -> list[tuple]:
    """Sessions idle inside a transaction that holds an id, for over `longer_than`
    seconds: each holds the relay back (it publishes only events of transactions
    older than the oldest one still open)."""
    with psycopg.connect(database.admin, autocommit=True) as conn:
        return conn.execute(
            "SELECT pid, backend_xid::text, now() - xact_start, left(query, 60)"
            " FROM pg_stat_activity WHERE datname = current_database()"
            " AND state = 'idle in transaction' AND backend_xid IS NOT NULL"
            " AND now() - xact_start > %s",
            (timedelta(seconds=longer_than),),
        ).fetchall()


def test_a_stalled_send_holds_back_no_event(platform, database, amqp_uri):
    """A slow SMS gateway delays its own message, never the platform's events: no
    transaction of the sender stays open across a send."""
    set_clock(platform, 10)
    number = phone()
    platform.sms.stall(number, STALL)
    sub = Subscriber(amqp_uri, "binhai.complaint.#")
    try:
        cid = complaint(platform, {"phone": number})
        act(platform, cid, "accept")  # the complainant's SMS: the gateway sits on it
        assert wait_for(lambda: number in platform.sms.holding), "no SMS went out"
        time.sleep(1.2)  # a transaction spanning the send would be over 1s old now
        held_back = idle_transactions(database)
        started = time.monotonic()
        other = complaint(platform, None)  # meanwhile, somebody else's complaint
        sub.drain(
            lambda got: any(
                m.envelope["stream_id"] == f"complaint-{other}" for m in got
            ),
            timeout=STALL + 10,
        )
        published_after = time.monotonic() - started
        found = f"published {published_after:.2f}s after; open: {held_back}"
        assert published_after < 1.5 and held_back == [], found
    finally:
        sub.close()
        # Let the stalled send finish and be recorded before the next test.
        wait_for(lambda: sms_for(platform, number, cid), timeout=STALL + 10)
        wait_for(
            lambda: any(
                e[1] == "NotificationSent" for e in notification_events(database, cid)
            ),
        )


def test_a_claim_whose_lease_ran_out_is_sent_again_but_recorded_once(
    platform, database, amqp_uri
):
    """The duplicate window, shown: a send that outlives its lease is taken again by
    another sender; the message goes twice, the log says Sent once."""
    set_clock(platform, 10)
    number = phone()
    platform.sms.stall(number, STALL / 2)
    cid = complaint(platform, {"phone": number})
    act(platform, cid, "accept")
    assert wait_for(lambda: number in platform.sms.holding), "no SMS went out"
    platform.clock.now += sender.LEASE + timedelta(seconds=1)  # the lease runs out
    sms = SmsGateways()  # a second instance's sender, on the same gateway and log
    sms.urls = {"binhai": f"{platform.sms.url}/binhai"}
    with (
        psycopg.connect(database.app, autocommit=True) as conn,
        ClusterRpcProxy({"AMQP_URI": amqp_uri}) as rpc,
    ):
        second = sender.send_due(
            EventStore(conn),
            platform.clock,
            {"sms": sms.send},
            rpc.complaints.contact,
            lambda district: None,
            structlog.get_logger(),
        )
    assert second["stale"] == 1 and second["sent"] == 0, second  # the first won
    assert wait_for(lambda: len(sms_for(platform, number, cid)) == 2)
    types = [
        e[1] for e in notification_events(database, cid) if e[2]["channel"] == "sms"
    ]
    assert types == ["NotificationQueued", "NotificationSent"]


def _queue_depth(channel, queue) -> int:
    return channel.queue_declare(queue, passive=True).message_count


def test_redelivering_the_same_event_sends_nothing_twice(platform, database, amqp_uri):
    set_clock(platform, 10)
    sub = Subscriber(amqp_uri, "binhai.complaint.dispatched")
    try:
        number = phone()
        cid = dispatched(platform, {"phone": number})
        msgs = sub.drain(
            lambda got: any(m.envelope["stream_id"] == f"complaint-{cid}" for m in got)
        )
        original = next(m for m in msgs if m.envelope["stream_id"].endswith(cid))
        assert wait_for(lambda: mentioning(platform.mailbox.to(HOUSING_LEADER), cid))
        assert wait_for(lambda: len(sms_for(platform, number, cid)) == 2)
        # Received before recorded: wait until every queued email and SMS is Sent.
        assert wait_for(lambda: settled(database, cid))
        before = len(notification_events(database, cid))
        for _ in range(2):  # the broker redelivers the very same envelope
            sub.channel.basic_publish(
                original, exchange=EXCHANGE, routing_key="binhai.complaint.dispatched"
            )
        queue = "liuhen.notify.on_complaint"
        assert wait_for(lambda: _queue_depth(sub.channel, queue) == 0)
        time.sleep(3)  # handled and, were it not once only, sent by now
        assert len(sms_for(platform, number, cid)) == 2
        assert len(mentioning(platform.mailbox.to(HOUSING_LEADER), cid)) == 1
        assert len(notification_events(database, cid)) == before
    finally:
        sub.close()


def test_the_inbox_shows_the_units_notifications_and_never_another_districts(
    platform,
):
    set_clock(platform, 10)
    cid = dispatched(platform, {"phone": phone()})

    def item_of(role="unit_handler", unit="housing", district="binhai", **query):
        r = platform.get("/v1/inbox", role, unit=unit, district=district, params=query)
        assert r.status_code == 200, r.text
        return [i for i in r.json()["items"] if i["correlation_id"].endswith(cid)]

    items = wait_for(item_of)
    assert len(items) == 1 and cid in items[0]["title"] and items[0]["read_at"] is None
    nid = items[0]["id"]
    assert item_of(unit="approvals") == []
    assert item_of(district="jinghai", unit="approvals") == []
    for district, unit in (("jinghai", "approvals"), ("binhai", "approvals")):
        r = platform.post(
            f"/v1/inbox/{nid}/read", "unit_handler", unit=unit, district=district
        )
        assert r.status_code == 404, r.text
    r = platform.post(f"/v1/inbox/{nid}/read", "unit_handler", unit="housing")
    assert r.status_code == 200 and r.json()["read_at"], r.text
    assert item_of(unread="true") == [] and len(item_of(unread="false")) == 1
    r = platform.get("/v1/inbox", "unit_handler", unit="housing", params={"limit": 0})
    assert r.status_code == 422
    r = platform.post("/v1/inbox/N-nothing/read", "unit_handler", unit="housing")
    assert r.status_code == 404


def test_a_failing_smtp_server_is_retried_and_the_failure_recorded(platform, database):
    start = set_clock(platform, 10)
    address = f"c{random.randrange(10**9)}@example.com"
    platform.mailbox.refuse(address)
    try:
        cid = complaint(platform, {"email": address}, channel="web")
        act(platform, cid, "accept")

        def failed():
            events = notification_events(database, cid)
            return [e[2] for e in events if e[1] == "NotificationFailed"]

        failure = wait_for(failed)
        assert failure and failure[0]["error"] == "smtp 451", failure
        assert platform.mailbox.refusals(address) == 1
        assert platform.mailbox.to(address) == []
        time.sleep(2)  # the retry waits its backoff, not the sender's next tick
        assert platform.mailbox.refusals(address) == 1
    finally:
        platform.mailbox.accept_all()
    platform.clock.now = start + timedelta(minutes=2)
    assert wait_for(lambda: mentioning(platform.mailbox.to(address), cid))

    def sent():
        # The mail server has the message before the sender records it was sent.
        events = notification_events(database, cid)
        return [e[2] for e in events if e[1] == "NotificationSent"]

    assert wait_for(sent) == [{"channel": "email", "attempt": 2}]
    assert address not in json.dumps(notification_events(database, cid))


def test_a_district_admin_edits_templates_and_rules(platform):
    path = "/v1/notify/templates/complaint_dispatched.unit"
    leak = {"title": "转办", "body": "投诉人：{{ complainant_name }}"}
    r = platform.call("PUT", path, "admin", district="jinghai", json=leak)
    assert r.status_code == 422 and "complainant_name" in r.text, r.text
    broken = {"title": "转办", "body": "{% if %}"}
    r = platform.call("PUT", path, "admin", district="jinghai", json=broken)
    assert r.status_code == 422, r.text
    mine = {"title": "静海转办单{{ ref }}", "body": "{{ unit_name }}请办理{{ ref }}。"}
    r = platform.call("PUT", path, "intake", district="jinghai", json=mine)
    assert r.status_code == 403, r.text
    r = platform.call("PUT", path, "admin", district="jinghai", json=mine)
    assert r.status_code == 200 and r.json()["overridden"], r.text
    r = platform.call(
        "PUT",
        "/v1/notify/rules/complaint_dispatched.unit",
        "admin",
        district="jinghai",
        json={"channels": ["email"]},
    )
    assert r.status_code == 200, r.text
    for kind, channels, status in (
        ("complaint_dispatched.unit", ["contact"], 422),
        ("complaint_dispatched.nobody", ["email"], 404),
    ):
        r = platform.call(
            "PUT",
            f"/v1/notify/rules/{kind}",
            "admin",
            district="jinghai",
            json={"channels": channels},
        )
        assert r.status_code == status, r.text
    set_clock(platform, 10)
    cid = dispatched(platform, {"phone": phone()}, unit="approvals", district="jinghai")
    mails = wait_for(lambda: mentioning(platform.mailbox.to(JINGHAI_APPROVALS), cid))
    assert mails and mails[0]["subject"] == f"静海转办单{cid}", mails
    time.sleep(1)
    r = platform.get("/v1/inbox", "unit_handler", unit="approvals", district="jinghai")
    assert cid not in r.text  # the district switched the unit's inbox off
    # Binhai keeps its defaults.
    r = platform.get("/v1/notify/templates", "campaign_office")
    kinds = {t["kind"]: t for t in r.json()["items"]}
    assert not kinds["complaint_dispatched.unit"]["overridden"]
