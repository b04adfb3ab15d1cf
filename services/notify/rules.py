"""Who is told what, on which event, through which channel: a table, not code paths.

Each row is a notification kind: `<event>.<recipient>` (its template is
templates/<kind>.j2), the event type that triggers it, who receives it and the
channels it uses by default. A district changes a kind's channels (an empty list
switches it off) with `PUT /v1/notify/rules/<kind>`, recorded as a NotifyRuleSet
event on `notify-<district>`.

Why overrides are events rather than a config file: a rule says who learns of a
complaint, and changing it is itself something an inspector may need to replay (who
stopped the SMS to complainants, when, on whose token); it is the district's own
admin who changes it, per district, without a deploy or a restart; and the change
takes effect for the next event in every instance at once (they all read the same
projection). What is infrastructure (SMTP host, SMS gateway URLs, quiet hours) stays
in the nameko config, where the operator keeps it.

Recipients:
- complainant: by the contact they gave and the channel they came in by (`contact`);
  an anonymous complainant is told nothing: they follow by query code, and no inbox
  can be theirs without a token;
- unit: the people of the handling unit (email, SMS) and the unit's inbox;
- supervisor: the unit's leader in charge (分管领导);
- subject: the person an accountability decision names;
- office: the campaign office: its people as the district names them, its inbox;
- intake: the intake desk's inbox.
"""

from dataclasses import dataclass

PEOPLE = ("complainant", "unit", "supervisor", "subject", "office", "intake")
ALLOWED = {
    "complainant": frozenset({"contact", "sms", "email"}),
    "intake": frozenset({"inbox"}),
}
STAFF_CHANNELS = frozenset({"email", "sms", "inbox"})
# Channels the complainant came in by that are written (web, media): answer by email
# first; everything else (hotlines, letters, visits) by SMS first.
EMAIL_FIRST = frozenset({"web", "media"})


class RuleError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    kind: str
    event_type: str
    recipient: str
    channels: tuple[str, ...]


def _rule(kind: str, event_type: str, *channels: str) -> Rule:
    return Rule(kind, event_type, kind.split(".")[1], channels)


DEFAULTS = (
    _rule("complaint_accepted.complainant", "ComplaintAccepted", "contact"),
    _rule("complaint_dispatched.complainant", "ComplaintDispatched", "contact"),
    _rule("complaint_replied.complainant", "ComplaintReplied", "contact"),
    _rule("complaint_feedback.complainant", "ComplaintFeedbackGiven", "contact"),
    _rule("complaint_closed.complainant", "ComplaintClosed", "contact"),
    _rule("complaint_dispatched.unit", "ComplaintDispatched", "email", "inbox"),
    _rule("complaint_deadline_near.unit", "ComplaintDeadlineNear", "email", "inbox"),
    _rule("complaint_overdue.unit", "ComplaintOverdue", "email", "inbox"),
    _rule("complaint_urged.unit", "ComplaintUrged", "sms", "inbox"),
    _rule("complaint_escalated.unit", "ComplaintEscalated", "email", "inbox"),
    _rule("complaint_overdue.supervisor", "ComplaintOverdue", "email", "inbox"),
    _rule("complaint_escalated.supervisor", "ComplaintEscalated", "inbox"),
    _rule("complaint_returned.intake", "ComplaintReturned", "inbox"),
    _rule("issue_overdue.unit", "IssueOverdue", "email", "inbox"),
    _rule("issue_sent_back.unit", "IssueSentBack", "inbox"),
    _rule("issue_overdue.supervisor", "IssueOverdue", "inbox"),
    _rule("issue_submitted.supervisor", "IssueSubmitted", "inbox"),
    _rule("case_decided.subject", "CaseDecided", "email", "inbox"),
    _rule("case_bulletin_published.office", "CaseBulletinPublished", "email", "inbox"),
    _rule("assessment_published.office", "AssessmentPublished", "email", "inbox"),
)
KINDS = {rule.kind: rule for rule in DEFAULTS}


def check(kind: str, channels: list[str]) -> tuple[str, ...]:
    """The channels a district may set for `kind`, or RuleError naming the problem."""
    if kind not in KINDS:
        raise RuleError(f"no notification kind {kind!r}; kinds: {', '.join(KINDS)}")
    recipient = KINDS[kind].recipient
    allowed = ALLOWED.get(recipient, STAFF_CHANNELS)
    wrong = sorted(set(channels) - allowed)
    if wrong:
        raise RuleError(
            f"{kind} goes to the {recipient}: channels {', '.join(wrong)} are not"
            f" for them (allowed: {', '.join(sorted(allowed))})"
        )
    return tuple(dict.fromkeys(channels))  # in order, once each


def effective(overrides: dict[str, list[str]]) -> list[Rule]:
    """The district's table: the defaults, with the channels it set over them."""
    return [
        Rule(r.kind, r.event_type, r.recipient, tuple(overrides[r.kind]))
        if r.kind in overrides
        else r
        for r in DEFAULTS
    ]


def for_event(event_type: str, overrides: dict[str, list[str]]) -> list[Rule]:
    return [
        r for r in effective(overrides) if r.event_type == event_type and r.channels
    ]


def complainant_channels(channels: tuple[str, ...], contact: dict) -> list[str]:
    """The complainant's channels for a rule: what they can be reached by.

    `contact` (the complaints service's) resolves to one channel, the one that fits
    how they came in; explicit sms/email only where they gave that address. An
    anonymous complaint, or one whose complainant was erased, has no channel."""
    if contact.get("anonymous") or contact.get("erased"):
        return []
    have = {"sms": bool(contact.get("phone")), "email": bool(contact.get("email"))}
    out = []
    for channel in channels:
        if channel == "contact":
            order = ("email", "sms")
            if contact.get("channel") not in EMAIL_FIRST:
                order = ("sms", "email")
            channel = next((c for c in order if have[c]), None)
        if channel and have.get(channel) and channel not in out:
            out.append(channel)
    return out
