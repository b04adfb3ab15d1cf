"""The clues, cases and bulletins read model, in the same transaction as the events."""

from psycopg.types.json import Jsonb

CLUE = """
INSERT INTO accountability.clues (id, district, kind, mandatory, unit, subject,
    source_type, source_id, status, registered_at, updated_at, version)
VALUES (%(clue_id)s, %(district)s, %(kind)s, %(mandatory)s, %(unit)s, %(subject)s,
    %(source_type)s, %(source_id)s, 'registered', %(at)s, %(at)s, %(version)s)
"""
CLUE_SETS = {
    "ClueGroundAdded": "grounds = grounds + 1",
    "ClueVerificationStarted": "status = 'verifying'",
    "ClueDismissed": "status = 'dismissed'",
    "ClueFiled": "status = 'filed', case_id = %(case_id)s",
}
CASE = """
INSERT INTO accountability.cases (id, district, clue_id, unit, subject, subject_role,
    origin, linked_from, status, opened_at, updated_at, version)
VALUES (%(case_id)s, %(district)s, %(clue_id)s, %(unit)s, %(subject)s,
    %(subject_role)s, %(origin)s, %(linked_from)s, 'investigating', %(at)s, %(at)s,
    %(version)s)
"""
CASE_SETS = {
    "CaseFindingsRecorded": "status = 'investigated',"
    " substantiated = %(substantiated)s",
    "CaseExemptionAssessed": "exemption = %(outcome)s,"
    " exemption_grounds = %(grounds_json)s,"
    " mitigated = (%(outcome)s = 'mitigate'),"
    " status = CASE WHEN %(outcome)s = 'exempt' THEN 'exempted' ELSE status END",
    "CaseDecided": "status = 'decided', measures = %(measures_json)s,"
    " severity = %(severity)s, collective_decision = %(collective_decision)s",
    "CaseLinked": "origin = origin",  # the version moves on
    "CaseMarkedReference": "reference = true",
    "CaseBulletinPublished": "bulletin_id = %(bulletin_id)s",
    "CaseSubjectNotified": "status = 'notified', notified_at = %(at)s,"
    " appeal_until = %(appeal_until)s",
    "CaseAppealed": "status = 'appealed'",
    "CaseAppealDecided": "status = 'appeal_decided', appeal_outcome = %(outcome)s,"
    " measures = %(measures_json)s",
    "CaseClosed": "status = 'closed', outcome = %(outcome)s",
}
BULLETIN = """
INSERT INTO accountability.bulletins (id, district, case_id, title, body, unit,
    unit_name, subject_name, measures, published_on, published_at)
VALUES (%(bulletin_id)s, %(district)s, %(case_id)s, %(title)s, %(body)s, %(unit)s,
    %(unit_name)s, %(subject_name)s, %(measures_json)s, %(published_on)s, %(at)s)
"""
UPDATE = (
    "UPDATE accountability.{table} SET {sets}, updated_at = %(at)s,"
    " version = %(version)s WHERE id = %(id)s"
)


def apply(store, recorded) -> None:
    conn = store.conn
    for e in recorded:
        p = {
            **e.params(),
            "measures_json": Jsonb(e.data.get("measures", [])),
            "grounds_json": Jsonb(e.data.get("grounds", [])),
        }
        if e.type == "ClueRegistered":
            source = e.data["source"]
            conn.execute(
                CLUE, {**p, "source_type": source["type"], "source_id": source["id"]}
            )
        elif e.type in CLUE_SETS:
            conn.execute(UPDATE.format(table="clues", sets=CLUE_SETS[e.type]), p)
        elif e.type == "CaseOpened":
            conn.execute(CASE, p)
        elif e.type in CASE_SETS:
            conn.execute(UPDATE.format(table="cases", sets=CASE_SETS[e.type]), p)
            if e.type == "CaseBulletinPublished":
                conn.execute(BULLETIN, p)
