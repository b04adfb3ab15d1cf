"""What services read from the directory. Call inside a district scope:

    with district_scope(conn, "binhai"):
        unit = read.unit(conn, "approvals")

(eventlog.tenancy.district_scope, or a handle() transaction, which sets it). Row-level
security confines every query to that district; outside a scope nothing is found.
People's email and phone are here for the services that notify them: they never go
into a published event (contracts/directory.py).
"""

from psycopg.rows import dict_row

from eventlog.tenancy import district_scope

from .rules import effective_accountability, effective_assessment

UNIT = "SELECT code, name, main_leader, leader_in_charge FROM directory.units"
PERSON = "SELECT id, name, title, unit, email, phone FROM directory.people"
LEADERS = ("main_leader", "leader_in_charge")


def _one(conn, query: str, params: tuple) -> dict | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchone()


def district(conn, code: str) -> dict | None:
    """{district, name, time_limits: {kind: {days, working}}, assessment,
    accountability, principal_leaders, level_above, version}. `assessment` is the
    rule table in force (the file's, or the defaults: services/directory/rules.py),
    points as decimal strings; `accountability` is {dual_investigation_from,
    appeal_days}, the file's values over the defaults. `principal_leaders` are
    person ids ([] when none), `level_above` a district code or None: a complaint
    about one of them is recorded there (services/complaints/sealed.py)."""
    found = _one(
        conn,
        "SELECT district, name, time_limits, assessment, accountability,"
        " principal_leaders, level_above, version"
        " FROM directory.districts WHERE district = %s",
        (code,),
    )
    if found is not None:
        found["assessment"] = effective_assessment(found["assessment"])
        found["accountability"] = effective_accountability(found["accountability"])
    return found


def unit(conn, code: str) -> dict | None:
    """{code, name, main_leader, leader_in_charge} (the leaders as person ids)."""
    return _one(conn, UNIT + " WHERE code = %s", (code,))


def units(conn) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(UNIT + " ORDER BY code").fetchall()


def person(conn, id: str) -> dict | None:
    """{id, name, title, unit, email, phone}; all but id and name may be None."""
    return _one(conn, PERSON + " WHERE id = %s", (id,))


def leaders(conn, unit_code: str) -> dict:
    """{"main_leader": person, "leader_in_charge": person} of a unit (主要领导 and
    分管领导); both None for a unit not in the directory."""
    found = unit(conn, unit_code)
    if found is None:
        return dict.fromkeys(LEADERS)
    return {role: person(conn, found[role]) for role in LEADERS}


def unit_in(conn, district_code: str, code: str) -> dict | None:
    """`unit`, in a district scope of its own: for a caller outside one."""
    with district_scope(conn, district_code):
        return unit(conn, code)
