"""Whistleblowers protected: a complainant's identity is encrypted under a key of its
own, every read of it is on record, and `liuhen pii erase` destroys the key so that
nobody reads it again (services/complaints/identity.py, docs/security-notes/pii.md).

The log and the read model are read as the superuser, who sees everything: neither
holds the identity in plain text. After an erasure the API, notify, a rebuild and the
audit timeline show it erased, and `liuhen verify` still passes: nothing in the log
changed.
"""

import json
import random

import pytest
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ClusterRpcProxy

from services.complaints.pii import KeyMissing
from services.complaints.service import Complaints
from tests.conftest import liuhen
from tests.e2e.conftest import PII_KEY
from tests.e2e.local_servers import wait_for
from tests.e2e.test_notify import act, complaint, phone, set_clock, sms_for


def whistleblower() -> dict:
    n = random.randrange(10**6)
    return {"name": f"欧阳明珠{n}", "phone": phone(), "email": f"w{n}@example.com"}


def identity_read(platform, cid, role="intake", district="binhai", unit=None, **q):
    path = f"/v1/complaints/{cid}/complainant"
    return platform.get(path, role, district=district, unit=unit, params=q)


def events_of(conn, cid) -> list[tuple]:
    """(stream, type, actor, reason, data) of the complaint's correlation."""
    return conn.execute(
        "SELECT stream_id, type, actor, reason, data FROM eventlog.events"
        " WHERE correlation_id = %s ORDER BY position",
        (f"complaint-{cid}",),
    ).fetchall()


def reads(conn, cid) -> list[tuple]:
    return [e for e in events_of(conn, cid) if e[1] == "ComplainantIdentityRead"]


def leaks(conn, who: dict) -> list[str]:
    """Where the superuser finds any of `who`'s values in plain text."""
    found = []
    for table in ("eventlog.events", "complaints.complainants", "complaints.pii_keys"):
        for value in who.values():
            n = conn.execute(
                f"SELECT count(*) FROM {table} t WHERE to_jsonb(t)::text LIKE %s",
                (f"%{value}%",),
            ).fetchone()[0]
            if n:
                found.append(f"{table}: {value}")
    return found


def test_the_log_and_the_read_model_hold_only_ciphertext(platform, admin_conn):
    who = whistleblower()
    cid = complaint(platform, who)
    assert leaks(admin_conn, who) == []
    data = admin_conn.execute(
        "SELECT schema_version, data FROM eventlog.events"
        " WHERE stream_id = %s AND stream_version = 1",
        (f"complaint-{cid}",),
    ).fetchone()
    assert data[0] == 2 and "complainant" not in data[1]
    assert data[1]["complainant_ciphertext"].startswith("aesgcm1:")
    ref = data[1]["complainant_ref"]
    row = admin_conn.execute(
        "SELECT p.ciphertext, k.complaint_id FROM complaints.complainants p"
        " JOIN complaints.pii_keys k USING (ref) WHERE p.ref = %s",
        (ref,),
    ).fetchone()
    assert row == (data[1]["complainant_ciphertext"], cid)
    view = platform.get(f"/v1/complaints/{cid}", "intake").json()
    assert view["complainant"] == {
        "ref": ref,
        "given": ["name", "phone", "email"],
        "state": "encrypted",
    }
    assert who["name"] not in json.dumps(view, ensure_ascii=False)


def test_intake_reads_the_identity_with_a_reason_and_the_read_is_recorded(
    platform, admin_conn
):
    who = whistleblower()
    cid = complaint(platform, who)
    assert identity_read(platform, cid).status_code == 422  # no reason
    for role in ("supervisor", "campaign_office", "admin", "integrator"):
        assert identity_read(platform, cid, role, reason="看看").status_code == 403
    r = identity_read(platform, cid, "unit_handler", unit="housing", reason="看看")
    assert r.status_code == 403
    r = identity_read(platform, cid, "intake", district="jinghai", reason="看看")
    assert r.status_code == 404
    assert reads(admin_conn, cid) == []

    r = identity_read(platform, cid, reason="回访核实办理结果")
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in who} == who
    (read,) = reads(admin_conn, cid)
    stream, _, actor, reason, data = read
    assert stream.startswith("complainant-P-") and actor.startswith("intake:")
    assert reason == "回访核实办理结果" and data == {"complaint_id": cid, "via": "api"}
    assert r.json()["read_event_id"] and r.json()["ref"] == stream.split("-", 1)[1]
    identity_read(platform, cid, "inspector", reason="核查线索")
    assert [e[2].split(":")[0] for e in reads(admin_conn, cid)] == [
        "intake",
        "inspector",
    ]
    anonymous = complaint(platform, None)
    assert identity_read(platform, anonymous, reason="回访").status_code == 404


def test_notify_reads_the_contact_on_record_when_it_sends(platform, admin_conn):
    set_clock(platform, 10)
    who = whistleblower()
    cid = complaint(platform, who)
    act(platform, cid, "accept")
    assert wait_for(lambda: sms_for(platform, who["phone"], cid))
    (read,) = wait_for(lambda: reads(admin_conn, cid))
    _, _, actor, reason, data = read
    assert actor == "system:notify" and data["via"] == "notify"
    assert reason.startswith("notification ")
    assert reason.endswith(" complaint_accepted.complainant")
    assert leaks(admin_conn, who) == []


@pytest.fixture
def rpc(amqp_uri):
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}) as proxy:
        yield proxy


def test_an_erased_identity_is_unreadable_everywhere_and_the_log_verifies(
    platform, database, admin_conn, rpc, digest_key
):
    set_clock(platform, 22)  # quiet hours: the acceptance SMS waits for morning
    who = whistleblower()
    cid = complaint(platform, who)
    act(platform, cid, "accept")
    assert wait_for(
        lambda: admin_conn.execute(
            "SELECT count(*) FROM notify.outbox o JOIN notify.notifications n"
            " ON n.id = o.notification_id WHERE n.correlation_id = %s"
            " AND n.recipient = 'complainant'",
            (f"complaint-{cid}",),
        ).fetchone()[0]
    )
    assert identity_read(platform, cid, reason="核实").status_code == 200
    ref = platform.get(f"/v1/complaints/{cid}", "intake").json()["complainant"]["ref"]

    done = liuhen(database, "pii", "erase", ref, "--reason", "申请人要求删除")
    assert done.returncode == 0, done.stderr
    assert f"erased complainant {ref} of complaint {cid}" in done.stdout
    assert admin_conn.execute(
        "SELECT count(*) FROM complaints.pii_keys WHERE ref = %s", (ref,)
    ).fetchone() == (0,)

    _assert_erased(platform, admin_conn, rpc, cid, ref)
    # The SMS queued before the erasure can never go: abandoned, not retried.
    set_clock(platform, 8, 1)

    def abandoned():
        return [
            e[4] for e in events_of(admin_conn, cid) if e[1] == "NotificationAbandoned"
        ]

    assert wait_for(abandoned) == [
        {"channel": "sms", "attempts": 1, "error": "complainant erased"}
    ]
    assert sms_for(platform, who["phone"], cid) == []
    # Later steps tell the unit, never the erased complainant.
    act(platform, cid, "dispatch", unit="housing")
    assert wait_for(lambda: _queued_kinds(admin_conn, cid) >= {"dispatched.unit"})
    assert "dispatched.complainant" not in _queued_kinds(admin_conn, cid)

    timeline = platform.get(f"/v1/audit/cases/{cid}", "inspector").json()
    types = [e["type"] for e in timeline["entries"]]
    assert "ComplainantIdentityRead" in types and types.count("ComplainantErased") == 1
    erased = next(e for e in timeline["entries"] if e["type"] == "ComplainantErased")
    assert erased["label"] == "销毁诉求人身份" and erased["reason"] == "申请人要求删除"
    text = json.dumps(timeline, ensure_ascii=False)
    assert "aesgcm1:" not in text and who["name"] not in text

    rebuilt = liuhen(database, "projections", "rebuild", "complaints")
    assert rebuilt.returncode == 0, rebuilt.stderr
    _assert_erased(platform, admin_conn, rpc, cid, ref)

    verified = liuhen(
        database, "verify", "--district", "binhai", LIUHEN_DIGEST_KEY=str(digest_key)
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    again = liuhen(database, "pii", "erase", cid)
    assert again.returncode == 0 and "erased already" in again.stdout, again.stderr
    assert [e[1] for e in events_of(admin_conn, cid)].count("ComplainantErased") == 1
    missing = liuhen(database, "pii", "erase", "P-NOSUCHREF000")
    assert missing.returncode == 2 and "no complainant" in missing.stderr


def _queued_kinds(conn, cid) -> set[str]:
    return {
        e[4]["kind"].removeprefix("complaint_")
        for e in events_of(conn, cid)
        if e[1] == "NotificationQueued"
    }


def _assert_erased(platform, conn, rpc, cid, ref) -> None:
    view = platform.get(f"/v1/complaints/{cid}", "intake").json()
    assert view["complainant"]["state"] == "erased"
    r = identity_read(platform, cid, "inspector", reason="核实")
    assert r.status_code == 410 and r.json()["error"]["code"] == "erased", r.text
    contact = rpc.complaints.contact("binhai", cid, "notification test")
    assert contact["erased"] is True
    assert contact["name"] is contact["phone"] is contact["email"] is None
    reach = rpc.complaints.reach("binhai", cid)
    assert reach["erased"] is True and not reach["phone"]
    row = conn.execute(
        "SELECT ciphertext, erased_at IS NOT NULL FROM complaints.complainants"
        " WHERE ref = %s",
        (ref,),
    ).fetchone()
    assert row == (None, True)


def test_the_complaints_service_does_not_start_without_a_master_key(
    nameko_config, admin_conn
):
    container = ServiceContainer(Complaints, nameko_config)  # no LIUHEN_PII_KEY
    with pytest.raises(KeyMissing, match="LIUHEN_PII_KEY is not set"):
        container.start()
    container.kill()
    # The platform's key is in its configuration, never in the database.
    for table in ("eventlog.events", "complaints.pii_keys", "complaints.complainants"):
        n = admin_conn.execute(
            f"SELECT count(*) FROM {table} t WHERE to_jsonb(t)::text LIKE %s",
            (f"%{PII_KEY}%",),
        ).fetchone()[0]
        assert n == 0, table


KEY = {"LIUHEN_PII_KEY": PII_KEY}


def encodings(raw: bytes) -> list[str]:
    import base64

    return [
        raw.hex(),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw)[:20].decode(),
    ]


def test_erasure_is_per_person_found_by_phone_without_opening_an_identity(
    platform, database, admin_conn
):
    who = whistleblower()
    first = complaint(platform, who)
    # The same person, the phone written otherwise and a new email: the same key.
    again = {**who, "phone": "+86 " + who["phone"], "email": "x" + who["email"]}
    second = complaint(platform, again)
    by_email = complaint(platform, {"name": "某", "email": again["email"].upper()})
    jinghai = complaint(platform, who, district="jinghai")  # another jurisdiction
    refs = [
        platform.get(f"/v1/complaints/{c}", "intake", district=d).json()["complainant"][
            "ref"
        ]
        for c, d in ((first, "binhai"), (second, "binhai"), (by_email, "binhai"))
    ]
    assert len(set(refs)) == 1, refs
    ref = refs[0]
    for cid in (first, second, by_email):
        r = identity_read(platform, cid, reason="核实")
        assert r.status_code == 200 and r.json()["ref"] == ref, r.text
    assert (
        identity_read(platform, second, reason="核实").json()["phone"].startswith("+86")
    )
    # The blind index is in the key's table only: no event holds it.
    digests = admin_conn.execute(
        "SELECT digest FROM complaints.pii_index WHERE ref = %s", (ref,)
    ).fetchall()
    assert len(digests) == 3  # the phone, both emails
    for (digest,) in digests:
        n = admin_conn.execute(
            "SELECT count(*) FROM eventlog.events WHERE position(%s in"
            " convert_to(data::text, 'UTF8')) > 0 OR data::text LIKE ANY(%s)",
            (bytes(digest), [f"%{v}%" for v in encodings(bytes(digest))]),
        ).fetchone()[0]
        assert n == 0

    unknown = liuhen(database, "pii", "erase", "--phone", "13800000000", **KEY)
    assert unknown.returncode == 2 and "no complainant" in unknown.stderr
    done = liuhen(database, "pii", "erase", "--phone", who["phone"], **KEY)
    assert done.returncode == 0, done.stderr
    # The person everywhere: binhai's complaints under one key, and jinghai's.
    for cid, district in (
        (first, "binhai"),
        (second, "binhai"),
        (by_email, "binhai"),
        (jinghai, "jinghai"),
    ):
        assert cid in done.stdout
        r = identity_read(platform, cid, "inspector", district, reason="核实")
        assert r.status_code == 410, r.text
    assert done.stdout.count("erased complainant") == 2  # two keys: two districts
    assert admin_conn.execute(
        "SELECT count(*) FROM complaints.pii_index WHERE ref = %s", (ref,)
    ).fetchone() == (0,)
    # Erased, the person matches nobody: a new complaint starts a new key.
    later = complaint(platform, who)
    view = platform.get(f"/v1/complaints/{later}", "intake").json()["complainant"]
    assert view["ref"] != ref and view["state"] == "encrypted"


def test_two_first_complaints_of_one_person_at_once_share_one_key(platform, admin_conn):
    from concurrent.futures import ThreadPoolExecutor

    who = whistleblower()
    with ThreadPoolExecutor(4) as pool:
        cids = list(pool.map(lambda _: complaint(platform, who), range(4)))
    refs = {
        platform.get(f"/v1/complaints/{c}", "intake").json()["complainant"]["ref"]
        for c in cids
    }
    assert len(refs) == 1, refs
    assert admin_conn.execute(
        "SELECT count(*) FROM complaints.pii_keys WHERE ref = ANY(%s)", (list(refs),)
    ).fetchone() == (1,)
