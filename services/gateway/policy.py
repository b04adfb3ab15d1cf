"""Which role may do what. The domain decides *when*; this decides *who*.

A token acts only in its own district (every route takes the district from the token,
never from the request), and a unit handler only on its own unit's complaints (the
complaints service shows it nothing else).
"""

from contracts.vocabulary import ROLES

from .web import ApiError

READ = frozenset(ROLES)
RECEIVE = frozenset({"intake", "integrator"})
# Every unit's figures: for those who oversee units, not for a unit or an integrator.
STATS = frozenset(
    {"intake", "supervisor", "inspector", "campaign_office", "admin", "city"}
)

ACTIONS = {
    "accept": {"intake"},
    "reject": {"intake"},
    "merge": {"intake"},
    "dispatch": {"intake"},
    "sign": {"unit_handler"},
    "return": {"unit_handler"},
    "request_extension": {"unit_handler"},
    "reply": {"unit_handler"},
    "approve_extension": {"supervisor"},
    "refuse_extension": {"supervisor"},
    "feedback": {"intake"},
    "rate": {"intake"},
    "close": {"intake", "supervisor"},
    "urge": {"intake", "supervisor"},
    "escalate": {"supervisor", "inspector"},
    "hand_over": {"supervisor", "inspector", "campaign_office"},
}


def require(principal, allowed, what: str) -> None:
    if principal.role not in allowed:
        raise ApiError(
            403,
            "forbidden",
            f"role {principal.role} may not {what}",
            {"allowed_roles": sorted(allowed)},
        )


def require_action(principal, action: str, body: dict) -> None:
    require(principal, ACTIONS[action], action.replace("_", " ") + " complaints")
    if action == "close" and body.get("ruling") and principal.role != "supervisor":
        raise ApiError(403, "forbidden", "only a supervisor may close by ruling")


CAMPAIGNS = frozenset({"campaign_office", "admin"})
LEDGERS = STATS | {"unit_handler"}  # a unit handler gets its own unit's
REGISTER_ISSUES = frozenset(
    {"unit_handler", "campaign_office", "inspector", "supervisor"}
)
ISSUE_ACTIONS = {
    "answer": {"unit_handler"},
    "set_measures": {"unit_handler"},
    "report_progress": {"unit_handler"},
    "submit": {"unit_handler"},
    "send_back": {"supervisor"},
    "close": {"supervisor"},
}
