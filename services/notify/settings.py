"""A district's notify settings as recorded (notify.rules, templates, offices).

Read inside the district's scope. Writing them is recording an event on
`notify-<district>` (handlers.set_rule, set_template, set_office).
"""

from . import templates


def overrides(conn) -> dict[str, list[str]]:
    return dict(conn.execute("SELECT kind, channels FROM notify.rules").fetchall())


def office(conn) -> list[str]:
    row = conn.execute("SELECT people FROM notify.offices").fetchone()
    return row[0] if row else []


def template(conn, kind: str) -> tuple[str, str, bool]:
    """(title, body, overridden) of `kind` in the district."""
    row = conn.execute(
        "SELECT title, body FROM notify.templates WHERE kind = %s", (kind,)
    ).fetchone()
    return (row[0], row[1], True) if row else (*templates.default(kind), False)
