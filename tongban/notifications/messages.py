"""The wording of each event's message, in Chinese a citizen understands: what happened, what it means for them,
what to do next and by when, where to look. One :class:`Template` per event, registered in :data:`TEMPLATES`
(the core registry class); a context adds its own events with ``TEMPLATES.register(key, Template(...))``.

Placeholders are ``{name}`` fields of the context the sender passes (``str.format``); a missing one renders empty
(never the placeholder). Dates in the context are already local dates written for people (``2026年12月7日``).
``sms`` is the short text of an SMS (no link: the person signs in to read the rest)."""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from tongban.core.registry import Registry


@dataclass(frozen=True)
class Template:
    label: str  # the event's name on the settings page and in the log
    subject: str
    body: str
    sms: str


TEMPLATES: Registry[str, Template] = Registry("消息模板")

ACCEPTED = "application.accepted"
ONE_TIME_NOTICE = "application.one_time_notice"
REFUSED = "application.refused"
SUPPLEMENT_DUE = "application.supplement_due"
DECIDED = "application.decided"
LICENCE_ISSUED = "credential.issued"
RATING_INVITATION = "feedback.rating_invitation"
POST_CHECK_DUE = "supervision.post_check_due"
SECURITY_NOTICE = "security.incident_notice"
POLICY_ENTITLEMENT = "policies.entitlement"

TEMPLATES.register(ACCEPTED, Template(
    label="申请已受理",
    subject="您的申请已受理：{title}",
    body="{name}，您好！\n\n您提交的“{title}”（办件编号 {ref}）已于 {accepted_on} 受理。"
         "我们承诺在 {promised_days} 个工作日内办结，办理进度可随时在“我的办件”中查看。{owed}",
    sms="您的“{title}”已受理（办件编号{ref}），承诺{promised_days}个工作日内办结。进度可登录“我的办件”查看。",
))
TEMPLATES.register(ONE_TIME_NOTICE, Template(
    label="一次性告知（需补正材料）",
    subject="请补正材料：{title}",
    body="{name}，您好！\n\n您提交的“{title}”（办件编号 {ref}）材料还不齐全。"
         "我们一次性告诉您需要补正的全部内容：\n{missing}\n{note}\n"
         "补齐后可以在网上提交，也可以到任何一个综合窗口提交，已经交过的材料不用再交。"
         "一次性告知书可在“我的办件”中查看和下载。",
    sms="您的“{title}”（办件编号{ref}）还需补正：{missing_short}。补齐后网上或任一窗口提交即可，详情请登录“我的办件”查看。",
))
TEMPLATES.register(REFUSED, Template(
    label="申请不予受理",
    subject="您的申请未予受理：{title}",
    body="{name}，您好！\n\n很抱歉，您提交的“{title}”（办件编号 {ref}）经审查不予受理。理由：{reason}\n\n"
         "不予受理通知书可在“我的办件”中查看和下载。如对这个决定有异议，可以依法申请行政复议或者提起行政诉讼；"
         "也可以拨打 12345 政务服务便民热线咨询。",
    sms="很抱歉，您的“{title}”（办件编号{ref}）不予受理，理由：{reason}。详情请登录“我的办件”查看。",
))
TEMPLATES.register(SUPPLEMENT_DUE, Template(
    label="补齐材料到期提醒",
    subject="请在 {deadline} 前补齐材料：{title}",
    body="{name}，您好！\n\n您的“{title}”（办件编号 {ref}）是容缺受理的，还差以下材料：{materials}。"
         "请在 {deadline} 前（还有 {days} 天）补齐，可以在“我的办件”中上传，也可以交到任何一个综合窗口。"
         "材料补齐之前，审批结果暂不发放。",
    sms="提醒：您的“{title}”（办件编号{ref}）还差{materials}，请在{deadline}前补齐，补齐前审批结果暂不发放。",
))
TEMPLATES.register(DECIDED, Template(
    label="办理结果",
    subject="办理结果：{title}",
    body="{name}，您好！\n\n您的“{title}”（办件编号 {ref}）已办结。\n{results}\n\n"
         "办结通知书可在“我的办件”中查看和下载；颁发的电子证照已放入“证照夹”。"
         "欢迎您对这次服务作出评价。",
    sms="您的“{title}”（办件编号{ref}）已办结：{results_short}。详情请登录“我的办件”查看。",
))
TEMPLATES.register(LICENCE_ISSUED, Template(
    label="电子证照发放",
    subject="您的电子证照已发放：{licence_name}",
    body="{name}，您好！\n\n“{licence_name}”（编号 {number}）已发放到您的“证照夹”，有效期至 {valid_until}。"
         "以后办事时，可以直接出示或授权使用这张电子证照，不用再另外提交纸质证明。",
    sms="您的“{licence_name}”已发放到证照夹，办事时可直接出示使用。",
))
TEMPLATES.register(RATING_INVITATION, Template(
    label="服务评价邀请",
    subject="请您评价这次服务：{item_name}",
    body="{name}，您好！\n\n您在{department}办理的“{item_name}”已有结果。"
         "请您对这次服务作出评价（非常满意、满意、基本满意、不满意、非常不满意），{rate_until}前都可以评价。"
         "您的每一条评价都会用来改进服务；不满意的评价会有专人核实、整改并回访您。",
    sms="请您评价在{department}办理的“{item_name}”，{rate_until}前登录“评价服务”即可评价，感谢支持。",
))
TEMPLATES.register(POST_CHECK_DUE, Template(
    label="承诺事项核查提醒",
    subject="承诺事项核查提醒：{title}",
    body="{name}，您好！\n\n您以告知承诺方式办理的“{title}”（办件编号 {ref}）已获批准。"
         "{department}将在 {due_on} 前核查您承诺的内容，请按承诺备好相关材料，核查时配合提供。"
         "核查发现与承诺不符的，审批决定将被撤销，并记入信用记录。",
    sms="提醒：{department}将在{due_on}前核查您以告知承诺方式办理的“{title}”，请按承诺备好相关材料。",
))
TEMPLATES.register(SECURITY_NOTICE, Template(
    label="个人信息安全事件告知",
    subject="关于您个人信息的安全事件告知",
    body="{name}，您好！\n\n{text}\n\n详细说明请在“我的数据 → 安全告知”中查看。",
    sms="我们发现一起可能涉及您个人信息的安全事件，已采取处置措施，详情请登录“我的数据”查看。",
))

TEMPLATES.register(POLICY_ENTITLEMENT, Template(
    label="免申即享政策告知",
    subject="您可以享受：{policy_name}",
    body="{name}，您好！\n\n{reason}\n\n{next_step}不需要的，也可以在“我的政策”里选择“不需要”或者不再提醒。"
         "\n政策依据：{legal_basis}。",
    sms="您可以享受“{policy_name}”，无需另行申报。详情请登录“我的政策”查看；不需要的也可在那里退订提醒。",
))


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def render(template: Template, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, body, sms) of ``template`` with ``context``; unknown placeholders render empty."""
    values = _Blank({k: ("" if v is None else v) for k, v in context.items()})
    fmt = string.Formatter()
    subject, body, sms = (fmt.vformat(text, (), values) for text in (template.subject, template.body, template.sms))
    body = "\n".join(line.rstrip() for line in body.splitlines()).strip()
    return subject.strip()[:200], body, sms.strip()
