"""What each event means to an inspector: a Chinese label, a one-line summary, and the
status its stream is in afterwards.

The summary is filled from the event's recorded data (unit codes become names where
the directory knows them); a field an event does not carry leaves its placeholder
out rather than failing. The status after each event is the one the owning service's
own fold gives (tests/unit/test_audit.py holds the two side by side); an event that
leaves the status as it was has none here.
"""

import string
from collections.abc import Callable

from contracts.vocabulary import CATEGORIES, CHANNELS, KINDS

Status = str | Callable[[dict, str | None], str | None] | None

# type -> (label, status after, summary template over the event's data)
MEANINGS: dict[str, tuple[str, Status, str]] = {
    # complaints
    "ComplaintReceived": (
        "登记受理",
        "received",
        "经{channel_name}收到{kind_name}，问题类别：{category_name}{urgent_text}",
    ),
    "ComplaintAccepted": ("受理", "accepted", "受理该件"),
    "ComplaintRejected": ("不予受理", "rejected", "不予受理"),
    "ComplaintMerged": ("合并", "merged", "并入 {into}"),
    "ComplaintDispatched": (
        "交办",
        "dispatched",
        "交办至{unit_label}，办理时限{limit_text}",
    ),
    "ComplaintSigned": (
        "签收",
        "in_progress",
        "{unit_label}签收，开始计时，办结期限 {due_at}",
    ),
    "ComplaintReturned": ("退回", "returned", "{unit_label}申请退回"),
    "ComplaintExtensionRequested": ("申请延期", None, "申请延期 {days} 日"),
    "ComplaintExtensionApproved": ("批准延期", None, "批准延期，新期限 {due_at}"),
    "ComplaintExtensionRefused": ("不予延期", None, "不批准延期"),
    "ComplaintReplied": (
        "答复",
        "replied",
        "{unit_label}答复办理结果{substantiated_text}{on_time_text}",
    ),
    "ComplaintFeedbackGiven": ("回访反馈", "fed_back", "向诉求人反馈办理结果"),
    "ComplaintRated": ("满意度评价", None, "诉求人评价：{rating_name}"),
    "ComplaintReopened": ("重新办理", "reopened", "诉求人不满意，重新交办"),
    "ComplaintClosed": ("办结", "closed", "办结{ruling_text}"),
    "ComplaintOverdue": ("超期", None, "{unit_label}超过办理期限 {due_at}"),
    "ComplaintDeadlineNear": ("临期提醒", None, "{unit_label}办理期限将至 {due_at}"),
    "ComplaintUrged": ("督办", None, "督促{unit_label}办理"),
    "ComplaintEscalated": ("提级督办", None, "提级督办{unit_label}"),
    "ComplaintHandedOver": (
        "移交整改",
        None,
        "移交专项整治 {campaign_id}，由{unit_label}整改",
    ),
    # the complainant's identity: who read it, its erasure (never the identity)
    "ComplainantIdentityRead": ("查阅诉求人身份", None, "查阅诉求人身份信息"),
    "ComplainantErased": ("销毁诉求人身份", None, "销毁密钥，诉求人身份信息不可再读"),
    # rectification issues
    "CampaignLaunched": ("启动专项整治", "launched", "启动专项整治：{name}"),
    "IssueRegistered": (
        "问题登记",
        "registered",
        "{unit_label}问题登记入{list_name}：{manifestation}",
    ),
    "IssueSuggestionAnswered": ("答复建议", "answered", "答复意见建议"),
    "IssueMeasuresSet": ("制定整改措施", "rectifying", "制定整改措施{due_text}"),
    "IssueProgressReported": ("报告进展", None, "报告整改进展"),
    "IssueSubmitted": ("提交销号", "submitted", "提交整改结果及佐证材料"),
    "IssueSentBack": ("退回整改", "rectifying", "审核未通过，退回整改"),
    "IssueClosed": ("销号", "closed", "审核通过，销号{on_time_text}"),
    "IssueOverdue": ("整改超期", None, "{unit_label}整改超过期限 {due_at}"),
    # accountability
    "ClueRegistered": (
        "线索登记",
        "registered",
        "登记问题线索（{clue_kind}），涉及{unit_label}{mandatory_text}",
    ),
    "ClueGroundAdded": ("线索增加事由", None, "同一来源再次触发：{clue_kind}"),
    "ClueVerificationStarted": ("初核", "verifying", "开始初步核实"),
    "ClueDismissed": ("了结", "dismissed", "初核后予以了结"),
    "ClueFiled": ("立案", "filed", "立案审查，案件 {case_id}"),
    "CaseOpened": (
        "立案调查",
        "investigating",
        "对{subject_text}立案调查{linked_text}",
    ),
    "CaseLinked": ("关联案件", None, "关联案件 {case_id}（{relation}）"),
    "CaseFindingsRecorded": (
        "调查结论",
        "investigated",
        "调查结论：{substantiated_text_case}",
    ),
    "CaseExemptionAssessed": (
        "容错免责认定",
        lambda d, s: "exempted" if d.get("outcome") == "exempt" else s,
        "容错免责认定：{exemption_text}",
    ),
    "CaseDecided": ("问责决定", "decided", "作出问责决定：{measures_text}"),
    "CaseMarkedReference": ("标杆案例", None, "列为容错免责标杆案例"),
    "CaseSubjectNotified": (
        "送达",
        "notified",
        "向被问责人送达决定，申诉期至 {appeal_until}",
    ),
    "CaseAppealed": ("申诉", "appealed", "被问责人提出申诉"),
    "CaseAppealDecided": ("申诉复查", "appeal_decided", "申诉复查结果：{outcome}"),
    "CaseClosed": ("结案", "closed", "结案（{outcome}）"),
    "CaseBulletinPublished": ("通报", None, "公开通报：{title}"),
    "AssessmentPublished": ("考核结果发布", "published", "发布 {period} 考核结果"),
    # notifications and webhooks
    "NotificationQueued": (
        "通知排队",
        "queued",
        "通过{channel_label}通知{recipient_text}（{kind}）",
    ),
    "NotificationSent": ("通知已发送", "sent", "通过{channel_label}发送成功"),
    "NotificationFailed": ("通知发送失败", "failed", "发送失败，将于 {retry_at} 重试"),
    "NotificationAbandoned": ("通知放弃", "abandoned", "多次发送失败，已放弃"),
    "NotificationRead": ("通知已读", "read", "收件人已阅读"),
    "NotifyRuleSet": ("通知规则变更", None, "通知规则 {kind} 变更"),
    "NotifyTemplateSet": ("通知模板变更", None, "通知模板 {kind} 变更"),
    "NotifyOfficeSet": ("专项办人员变更", None, "专项办通知人员变更"),
    "WebhookSubscribed": ("订阅推送", "active", "第三方系统订阅事件推送"),
    "WebhookSubscriptionChanged": ("订阅变更", None, "推送订阅变更"),
    "WebhookSecretRotated": ("更换密钥", None, "更换推送签名密钥"),
    "WebhookUnsubscribed": ("取消订阅", "removed", "取消事件推送"),
    "WebhookDeliveryScheduled": ("推送排队", "scheduled", "推送事件 {event_type}"),
    "WebhookDelivered": ("推送成功", "delivered", "第 {attempt} 次推送成功"),
    "WebhookAttemptFailed": ("推送失败", "retrying", "第 {attempt} 次推送失败"),
    "WebhookDeadLettered": ("推送终止", "dead_lettered", "推送多次失败，转入死信"),
    "WebhookResendRequested": ("重新推送", "scheduled", "管理员要求重新推送"),
    # the directory, tokens, digests
    "DistrictRegistered": ("区县登记", None, "登记区县：{name}"),
    "DistrictChanged": ("区县变更", None, "区县信息变更：{name}"),
    "UnitRegistered": ("单位登记", None, "登记单位：{name}"),
    "UnitChanged": ("单位变更", None, "单位信息变更：{name}"),
    "UnitRemoved": ("单位撤销", None, "撤销单位 {code}"),
    "PersonRegistered": ("人员登记", None, "登记人员：{name}（{title}）"),
    "PersonChanged": ("人员变更", None, "人员信息变更：{name}"),
    "PersonRemoved": ("人员移除", None, "移除人员 {id}"),
    "TokenIssued": ("发放令牌", None, "发放 {role} 令牌"),
    "TokenRevoked": ("吊销令牌", None, "吊销令牌 {token_id}"),
    "IntegratorAdded": (
        "接入第三方系统",
        "active",
        "接入第三方系统 {name}（消息账号 {user}）",
    ),
    "IntegratorRemoved": ("移除第三方系统", "removed", "移除第三方系统 {name}"),
    "DigestRecorded": (
        "日志摘要",
        None,
        "签署本区日志摘要：截至位置 {head_position}，共 {count} 条事件",
    ),
}

RATINGS = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
}
LISTS = {"problem": "问题清单", "improvement": "整改清单", "suggestion": "意见建议清单"}
CHANNEL_LABELS = {"email": "邮件", "sms": "短信", "inbox": "站内信"}
EXEMPTION = {"exempt": "免责", "mitigate": "从轻减轻", "refused": "不予免责"}
ROLE_LABELS = {"official": "责任人", "main_leader": "主要负责人"}


def label(event_type: str) -> str:
    return MEANINGS.get(event_type, (event_type, None, ""))[0]


def status_after(event_type: str, data: dict, before: str | None) -> str | None:
    status = MEANINGS.get(event_type, ("", None, ""))[1]
    if callable(status):
        return status(data, before)
    return status or before


class _Lenient(string.Formatter):
    """Missing fields are left out, not errors: old events lack new fields."""

    def get_value(self, key, args, kwargs):
        value = kwargs.get(key)
        return "" if value is None else value


_FORMAT = _Lenient()


def summary(event_type: str, data: dict, unit_names: dict[str, str]) -> str:
    template = MEANINGS.get(event_type, ("", None, event_type))[2]
    return _FORMAT.format(template, **_fields(data, unit_names)).strip()


def _fields(d: dict, unit_names: dict[str, str]) -> dict:
    unit = d.get("unit") or d.get("unit_complained")
    limit = d.get("time_limit") or {}
    measures = d.get("measures") or []
    return {
        **d,
        "unit_label": unit_names.get(unit, unit) if unit else "",
        "channel_name": CHANNELS.get(d.get("channel"), d.get("channel")),
        "kind_name": _first(KINDS.get(d.get("kind")), d.get("kind")),
        "category_name": _first(CATEGORIES.get(d.get("category"), ("",))[0]),
        "urgent_text": "（紧急）" if d.get("urgent") else "",
        "limit_text": (
            f"{limit['days']}个{'工作日' if limit.get('working') else '自然日'}"
            if "days" in limit
            else ""
        ),
        "substantiated_text": _yes_no(d.get("substantiated"), "，属实", "，不属实"),
        "substantiated_text_case": _yes_no(d.get("substantiated"), "属实", "不属实"),
        "on_time_text": _yes_no(d.get("on_time"), "（按期）", "（超期）"),
        "rating_name": RATINGS.get(d.get("rating"), d.get("rating")),
        "ruling_text": "（督办裁定）" if d.get("by_ruling") or d.get("ruling") else "",
        "list_name": LISTS.get(d.get("list"), d.get("list")),
        "due_text": f"，期限 {d['due_at']}" if d.get("due_at") else "，立行立改",
        "clue_kind": d.get("kind"),
        "mandatory_text": "，属五必查情形" if d.get("mandatory") else "",
        "subject_text": ROLE_LABELS.get(d.get("subject_role"), d.get("subject_role"))
        or "",
        "linked_text": f"（一案双查，源自 {d['linked_from']}）"
        if d.get("linked_from")
        else "",
        "exemption_text": EXEMPTION.get(d.get("outcome"), d.get("outcome")),
        "measures_text": "、".join(measures) if measures else "无",
        "channel_label": CHANNEL_LABELS.get(d.get("channel"), d.get("channel")),
        "recipient_text": "诉求人"
        if d.get("recipient") == "complainant"
        else d.get("recipient"),
    }


def _first(*values):
    return next((v for v in values if v), "")


def _yes_no(value, yes: str, no: str) -> str:
    return "" if value is None else (yes if value else no)
