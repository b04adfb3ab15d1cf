"""A case's dossier: its timeline as a printable HTML file an inspector can file
(print it to PDF from any browser; the page is laid out for A4)."""

import json
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from eventlog.deadlines import TZ

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "j2"]),
)
_ENV.filters["when"] = lambda text: (
    datetime.fromisoformat(text).astimezone(TZ).strftime("%Y-%m-%d %H:%M")
)
_ENV.filters["show"] = lambda value: (
    "—"
    if value is None
    else value
    if isinstance(value, str)
    else json.dumps(value, ensure_ascii=False)
)


def render(case: dict, exported_at: datetime) -> str:
    """`case` is the timeline view (services/audit/views.py: case)."""
    return _ENV.get_template("dossier.html.j2").render(
        case=case, exported_at=exported_at.astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    )
