"""Notification texts: Jinja2 templates in Chinese, one per kind, editable per district.

A template's first line is its title (the email's subject, the inbox item's title);
the rest is the body (the email's and inbox item's text, and the SMS). Defaults are
the files templates/<kind>.j2; a district's admin replaces one with
`PUT /v1/notify/templates/<kind>` (a NotifyTemplateSet event).

Security: a template is code an admin writes, so it runs in Jinja's
SandboxedEnvironment (no attribute of a Python internal, no call of anything unsafe),
with multiplication and powers bounded (no `'x' * 10**9`), and the output is capped.
Autoescape is off: the output is plain text, never HTML. Variables come from events
and the directory; their values are text and are never evaluated as templates.
Undefined variables are errors (StrictUndefined): a template is tried against a
sample context when it is saved, so a typo is refused with a 422 then and not found
at 2 a.m. by the sender. Staff templates get no complainant variable at all.
"""

import operator
from functools import cache
from pathlib import Path

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from .rules import KINDS

DIRECTORY = Path(__file__).resolve().parent / "templates"
MAX_OUTPUT = 5000
MAX_REPEAT = 1000

STAFF_SAMPLE = {
    "district_name": "滨海新区",
    "event_type": "ComplaintDispatched",
    "ref": "C-2026-7K3M9QXA",
    "unit": "housing",
    "unit_name": "住房和建设委员会",
    "due_at": "2026年9月30日 17:00",
    "occurred_at": "2026年9月14日 09:00",
    "measures": ["诫勉谈话"],
    "title": "关于某单位推诿扯皮问题的通报",
    "period": "2026-09",
    "bottom": ["某甲单位", "某乙单位", "某丙单位"],
}
VARIABLES = tuple(STAFF_SAMPLE)
COMPLAINANT_ONLY = ("complainant_name",)


class TemplateProblem(ValueError):
    pass


class _Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator_, left, right):
        if operator_ == "**":
            raise TemplateProblem("templates may not raise to powers")
        for count, other in ((left, right), (right, left)):
            if isinstance(count, int) and isinstance(other, str | list | tuple):
                if count > MAX_REPEAT:
                    raise TemplateProblem(f"templates repeat at most {MAX_REPEAT}x")
        return operator.mul(left, right)


ENV = _Sandbox(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=False)


def split(text: str) -> tuple[str, str]:
    title, _, body = text.strip().partition("\n")
    return title.strip(), body.strip()


@cache
def default(kind: str) -> tuple[str, str]:
    return split((DIRECTORY / f"{kind}.j2").read_text(encoding="utf-8"))


def variables(kind: str) -> tuple[str, ...]:
    extra = COMPLAINANT_ONLY if KINDS[kind].recipient == "complainant" else ()
    return VARIABLES + extra


def sample(kind: str) -> dict:
    out = dict(STAFF_SAMPLE)
    if KINDS[kind].recipient == "complainant":
        out["complainant_name"] = "张先生"
    return out


def render(title: str, body: str, context: dict) -> tuple[str, str]:
    """(title, body) rendered, or TemplateProblem naming what went wrong."""
    try:
        out = (
            ENV.from_string(title).render(context).strip(),
            ENV.from_string(body).render(context).strip(),
        )
    except TemplateProblem:
        raise
    except TemplateError as exc:
        raise TemplateProblem(f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:  # a template's own arithmetic, indexing, ...
        raise TemplateProblem(f"{type(exc).__name__}: {exc}") from None
    if not out[0] or "\n" in out[0]:
        raise TemplateProblem("the title must render to one non-empty line")
    if len(out[0]) + len(out[1]) > MAX_OUTPUT:
        raise TemplateProblem(f"the text renders to over {MAX_OUTPUT} characters")
    return out


def check(kind: str, title: str, body: str) -> None:
    """Refuse a template that does not render for its kind (at save time)."""
    render(title, body, sample(kind))
