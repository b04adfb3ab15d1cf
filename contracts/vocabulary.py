"""The complaint vocabulary every party shares: channels, kinds, categories, ratings.

Codes are what travels (events, API, Open311 `service_code`); the Chinese and English
names are for people. Categories are the seeds' problem catalogue of work-style
misconduct (see ../shared/DOMAIN.md).
"""

CHANNELS = {
    "12345": "12345 政务服务便民热线",
    "12388": "12388 纪检监察举报电话",
    "mayor": "市长专线",
    "letter": "来信",
    "visit": "来访",
    "web": "网上投诉",
    "phone": "来电",
    "media": "媒体及网络平台",
}

# Kinds set the time limit (see the district's rule table in the directory).
KINDS = {
    "consultation": "咨询",
    "help_request": "求助",
    "complaint": "投诉",
    "report": "举报",
}

# code -> (中文, English, what it covers)
CATEGORIES = {
    "shirking": (
        "推诿扯皮",
        "Shirking",
        "passing the matter to others, no one owns it",
    ),
    "inaction": ("不作为", "Inaction", "a duty not performed"),
    "slow_action": ("慢作为", "Slow action", "done late, deadlines ignored"),
    "obstruction": ("中梗阻", "Obstruction", "middle layers block a decided matter"),
    "hard_to_get_done": (
        "门好进、脸好看、事难办",
        "Easy door, nothing done",
        "polite reception, the matter still not handled",
    ),
    "favours": ("吃拿卡要", "Demanding favours", "asking for gifts, meals or fees"),
    "formalism": ("形式主义", "Formalism", "paperwork and shows instead of results"),
    "arbitrary": ("乱作为", "Arbitrary action", "acting beyond or against the rules"),
    "attitude": ("服务态度差", "Poor service", "rude, cold or careless treatment"),
    "other": ("其他", "Other", "anything else about how officials work"),
}

RATINGS = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
}
ACCEPTING_RATINGS = frozenset({"satisfied", "basically_satisfied"})

# The roles a gateway token carries (see DOMAIN.md, "Who uses it").
ROLES = (
    "intake",
    "unit_handler",
    "supervisor",
    "inspector",
    "campaign_office",
    "integrator",
    "admin",
    "city",
)

# Statuses of a complaint, in lifecycle order. Terminal ones end the complaint.
STATUSES = (
    "received",
    "accepted",
    "rejected",
    "merged",
    "dispatched",
    "returned",
    "in_progress",
    "replied",
    "fed_back",
    "reopened",
    "closed",
)
TERMINAL = frozenset({"rejected", "merged", "closed"})
