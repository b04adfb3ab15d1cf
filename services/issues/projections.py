"""The issues read model, in the same transaction as the events (handle's project)."""

from psycopg.types.json import Jsonb

CAMPAIGN = """
INSERT INTO issues.campaigns (id, district, name, phases, launched_at)
VALUES (%(campaign_id)s, %(district)s, %(name)s, %(phases)s, %(at)s)
"""
ISSUE = """
INSERT INTO issues.items (id, district, campaign_id, unit, list, source, status,
    manifestation, responsible, supervisor, suggested_unit, complaint_id,
    registered_at, position, updated_at, version)
VALUES (%(issue_id)s, %(district)s, %(campaign_id)s, %(unit)s, %(list)s, %(source)s,
    'registered', %(manifestation)s, %(responsible)s, %(supervisor)s,
    %(suggested_unit)s, %(complaint_id)s, %(at)s, %(position)s, %(at)s, %(version)s)
"""
SETS = {
    "IssueSuggestionAnswered": "status = 'answered', answer = %(answer)s",
    "IssueMeasuresSet": "status = 'rectifying', measures = %(measures)s, "
    "at_once = %(at_once)s, due_at = %(due_at)s",
    "IssueProgressReported": "progress = %(progress)s",
    "IssueSubmitted": "status = 'submitted', evidence = %(evidence_json)s",
    "IssueSentBack": "status = 'rectifying', sent_back = sent_back + 1",
    "IssueClosed": "status = 'closed', closed_at = %(at)s, "
    "closed_on_time = %(on_time)s",
    "IssueOverdue": "overdue = true",
}
UPDATE = (
    "UPDATE issues.items SET {sets}, updated_at = %(at)s, version = %(version)s"
    " WHERE id = %(id)s"
)
TIMERS = {
    "IssueMeasuresSet": "INSERT INTO issues.timers (issue_id, district, due_at)"
    " VALUES (%(id)s, %(district)s, %(due_at)s)"
    " ON CONFLICT (issue_id) DO UPDATE SET due_at = excluded.due_at",
    "IssueClosed": "DELETE FROM issues.timers WHERE issue_id = %(id)s",
    # Back to rectifying: a deadline that passed meanwhile is overdue now, so the
    # timer must look again (the domain still marks each deadline once).
    "IssueSentBack": "UPDATE issues.timers SET overdue_marked = false"
    " WHERE issue_id = %(id)s",
    "IssueOverdue": "UPDATE issues.timers SET overdue_marked = true"
    " WHERE issue_id = %(id)s",
}


def apply(store, recorded) -> None:
    conn = store.conn
    for e in recorded:
        p = e.params()
        if e.type == "CampaignLaunched":
            conn.execute(CAMPAIGN, {**p, "phases": Jsonb(p["phases"])})
        elif e.type == "IssueRegistered":
            conn.execute(ISSUE, p)
        elif e.type in SETS:
            p["evidence_json"] = Jsonb(p.get("evidence", []))
            conn.execute(UPDATE.format(sets=SETS[e.type]), p)
        if e.type in TIMERS and not (e.type == "IssueMeasuresSet" and not p["due_at"]):
            conn.execute(TIMERS[e.type], p)
