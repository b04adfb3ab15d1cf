"""The AsyncAPI document against the log itself: the events the services' own handlers
append, read back from PostgreSQL and enveloped as the relay envelopes them, each
validate against its message, whose channel names the routing key it goes out on.

This is where a wrong stream category in contracts/asyncapi.py shows: the category
comes from the stream the handler really appended to, and each message pins its own.
"""

from datetime import date, datetime

import pytest

from contracts.asyncapi import document
from contracts.envelope import envelope
from contracts.registry import REGISTRY, routing_key
from eventlog.deadlines import TZ, OfficialCalendar
from eventlog.model import Actor
from services.accountability import assessment_handlers
from services.accountability import handlers as accountability
from services.complaints import handlers as complaints
from services.directory.load import load
from services.gateway import auth
from services.issues import handlers as issues
from services.notify import handlers as notify
from services.notify import webhooks
from services.notify.webhooks_read import subscriptions
from services.notify.webhooks_secrets import Sealer
from tests.integration.test_directory_rules import copy
from tests.unit.test_asyncapi import payload_validator

AT = datetime(2026, 9, 3, 10, 0, tzinfo=TZ)
CAL = OfficialCalendar()
INTAKE = Actor("op-1", "intake")
OFFICE = Actor("office-1", "campaign_office")
INSPECTOR = Actor("insp-1", "inspector")
ADMIN = Actor("admin-1", "admin")


@pytest.fixture
def district(store, tmp_path) -> str:
    """A copy of binhai under a code of its own: every event of it is this test's."""
    code, path = copy(tmp_path)
    load(store, path, "test:asyncapi")
    return code


def complaint_dispatched(store, district) -> str:
    body = {"channel": "12345", "category": "shirking", "description": "办证跑了六趟"}
    cid = complaints.receive(store, district, body, INTAKE, AT, CAL)["id"]
    for action, args in (("accept", {}), ("dispatch", {"unit": "approvals"})):
        complaints.execute(store, district, cid, action, args, INTAKE, AT, CAL)
    return complaints.stream(cid)


def campaign_clue_and_assessment(store, district) -> None:
    phases = [
        {
            "phase": "mobilise",
            "starts_on": date(2026, 9, 1),
            "ends_on": date(2026, 9, 30),
        }
    ]
    body = {"name": "作风建设专项整治", "phases": phases}
    issues.launch_campaign(store, district, body, OFFICE, AT)
    clue = {"unit": "approvals", "kind": "inspection_finding", "summary": "窗口推诿"}
    accountability.register_clue(store, district, clue, INSPECTOR, AT)
    assessment_handlers.publish(store, district, "2026-08", OFFICE, AT)


def settings_and_webhook(store, district, complaint_stream) -> None:
    notify.set_rule(
        store, district, str(ADMIN), "complaint_accepted.complainant", [], AT
    )
    body = {"url": "https://hooks.example/liuhen", "event_types": ["complaints.*"]}
    webhooks.subscribe(store, Sealer(None), district, body, ADMIN, AT)
    received = envelope(store.read_stream(complaint_stream)[0])
    webhooks.schedule(store, received, subscriptions(store.conn, district, True), AT)


def appended(store, district) -> list:
    streams = store.conn.execute(
        "SELECT DISTINCT stream_id FROM eventlog.events WHERE district = %s",
        (district,),
    ).fetchall()
    return [event for (stream_id,) in streams for event in store.read_stream(stream_id)]


def test_what_the_services_append_validates_on_its_channels_routing_key(
    store, district
):
    auth.issue(store, district, "intake")
    complaint = complaint_dispatched(store, district)
    campaign_clue_and_assessment(store, district)
    settings_and_webhook(store, district, complaint)
    doc = document()
    events = appended(store, district)
    for event in events:
        channel = doc["channels"][event.type]
        key = routing_key(event.district, event.category, event.type)
        assert channel["address"].replace("{district}", district) == key
        payload_validator(doc, event.type).validate(envelope(event))
    owners = {REGISTRY.owners[event.type] for event in events}
    every_service_but_audit = set(REGISTRY.owners.values()) - {"audit"}
    assert owners == every_service_but_audit  # audit's digests: see the unit test
