"""The directory read model (schema `directory`, see migrations/001_directory.sql).

Called by eventlog.handler.handle in the transaction of the events, with the
district set for row-level security. Every statement is an upsert or a delete, so
applying an event twice (a rebuild over existing rows) changes nothing.
"""

from psycopg.types.json import Jsonb

from eventlog.store import EventStore

DISTRICT = """
INSERT INTO directory.districts
    (district, name, time_limits, assessment, accountability, principal_leaders,
     level_above, version)
VALUES (%(district)s, %(name)s, %(time_limits)s, %(assessment)s,
    %(accountability)s, %(principal_leaders)s, %(level_above)s, %(version)s)
ON CONFLICT (district) DO UPDATE
   SET name = excluded.name, time_limits = excluded.time_limits,
       assessment = excluded.assessment, accountability = excluded.accountability,
       principal_leaders = excluded.principal_leaders,
       level_above = excluded.level_above
"""
UNIT = """
INSERT INTO directory.units (district, code, name, main_leader, leader_in_charge)
VALUES (%(district)s, %(code)s, %(name)s, %(main_leader)s, %(leader_in_charge)s)
ON CONFLICT (district, code) DO UPDATE
   SET name = excluded.name, main_leader = excluded.main_leader,
       leader_in_charge = excluded.leader_in_charge
"""
PERSON = """
INSERT INTO directory.people (district, id, name, title, unit, email, phone)
VALUES (%(district)s, %(id)s, %(name)s, %(title)s, %(unit)s, %(email)s, %(phone)s)
ON CONFLICT (district, id) DO UPDATE
   SET name = excluded.name, title = excluded.title, unit = excluded.unit,
       email = excluded.email, phone = excluded.phone
"""
UNIT_REMOVED = (
    "DELETE FROM directory.units WHERE district = %(district)s AND code = %(code)s"
)
PERSON_REMOVED = (
    "DELETE FROM directory.people WHERE district = %(district)s AND id = %(id)s"
)
VERSION = "UPDATE directory.districts SET version = %s WHERE district = %s"

STATEMENTS = {
    "DistrictRegistered": DISTRICT,
    "DistrictChanged": DISTRICT,
    "UnitRegistered": UNIT,
    "UnitChanged": UNIT,
    "UnitRemoved": UNIT_REMOVED,
    "PersonRegistered": PERSON,
    "PersonChanged": PERSON,
    "PersonRemoved": PERSON_REMOVED,
}
PERSON_FIELDS = ("title", "unit", "email", "phone")  # optional: None when absent
DISTRICT_FIELDS = {  # likewise
    "assessment": None,
    "accountability": {},
    "principal_leaders": [],
    "level_above": None,
}
JSON_FIELDS = ("time_limits", "assessment", "accountability", "principal_leaders")


def apply(store: EventStore, recorded) -> None:
    for event in recorded:
        params = {
            **dict.fromkeys(PERSON_FIELDS),
            **event.data,
            "district": event.district,
            "version": event.stream_version,
        }
        if event.type in ("DistrictRegistered", "DistrictChanged"):
            params = {**DISTRICT_FIELDS, **params}
            for name in JSON_FIELDS:
                if params[name] is not None:
                    params[name] = Jsonb(params[name])
        store.conn.execute(STATEMENTS[event.type], params)
    if recorded:
        last = recorded[-1]
        store.conn.execute(VERSION, (last.stream_version, last.district))
