"""Complaints recorded before identities were encrypted (ComplaintReceived schema 1,
the identity in plain text in the event): projected without the identity, read from
the log on record, hidden everywhere once erased (services/complaints/identity.py).
"""

import uuid
from datetime import UTC, datetime

import pytest

from eventlog.handler import handle
from eventlog.model import NewEvent
from eventlog.tenancy import district_scope
from services.complaints import identity, projections

NOW = datetime(2026, 9, 14, 2, 0, tzinfo=UTC)
WHO = {"name": "王老五", "phone": "13700009999"}


@pytest.fixture
def legacy(store):
    """A schema-1 complaint, appended and projected as the old code did."""
    district = "legacy_" + uuid.uuid4().hex[:8]
    cid = "C-2025-" + uuid.uuid4().hex[:8].upper()
    data = {"complaint_id": cid, "channel": "12345", "kind": "complaint"}
    data |= {"category": "shirking", "urgent": False, "title": None}
    data |= {"description": "老件", "unit_complained": None, "persons": []}
    data |= {"location": {"address": None, "lat": None, "long": None}}
    data |= {"attachments": [], "anonymous": False, "complainant": WHO}
    data["query_code_hash"] = None
    event = NewEvent("ComplaintReceived", data, "intake:old", occurred_at=NOW)
    handle(
        store,
        f"complaint-{cid}",
        district,
        fold=lambda history: None,
        decide=lambda state: [event],
        project=projections.apply,
    )
    return district, cid


def test_the_read_model_keeps_nothing_of_a_legacy_identity(store, legacy):
    district, cid = legacy
    with district_scope(store.conn, district):
        row = store.conn.execute(
            "SELECT to_jsonb(p)::text FROM complaints.complainants p"
            " WHERE complaint_id = %s",
            (cid,),
        ).fetchone()[0]
        assert identity.summary(store.conn, cid) == {
            "ref": cid,
            "given": ["name", "phone"],
            "state": "legacy",
        }
    assert WHO["name"] not in row and WHO["phone"] not in row


def test_a_legacy_identity_is_read_on_record_and_hidden_once_erased(store, legacy):
    district, cid = legacy
    got = identity.read(store, district, cid, "intake:li", "回访", None, NOW)
    assert (got["name"], got["phone"], got["ref"]) == (WHO["name"], WHO["phone"], cid)
    (read,) = store.read_stream(f"complainant-{cid}")
    assert read.type == "ComplainantIdentityRead" and read.reason == "回访"
    assert read.correlation_id == f"complaint-{cid}"

    found = identity.find(store.conn, [district], cid)
    assert found["legacy"] is True
    identity.erase(store, found, "cli:ops", "申请删除", NOW)
    with pytest.raises(identity.Erased):
        identity.read(store, district, cid, "intake:li", "回访", None, NOW)
    assert identity.reach(store.conn, district, cid)["erased"] is True
    with district_scope(store.conn, district):
        assert identity.summary(store.conn, cid)["state"] == "erased"
