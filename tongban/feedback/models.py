"""Feedback: 好差评 ratings and their rectification, 12345 hotline work orders, classifier training examples.

A :class:`ServiceRecord` is one service a person may rate (a closed case's item, a window visit, a one-time
notice, a refusal); it is created when the service ends (``core.events.decision_made`` for cases) and carries
the department, item, window and staff member that served. A :class:`Rating` rates one service, once.
A real-name bad rating opens a :class:`Rectification` for the department (verify → rectify → revisit).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from tongban.core.models import Division, Organisation
from tongban.core.pii import EncryptedTextField, LookupHashField


class ServiceRecord(models.Model):
    """One service delivered to a person: the thing a rating rates (评价对象)."""

    class Kind(models.TextChoices):
        CASE = "case", "办件办结"
        WINDOW_VISIT = "window_visit", "窗口服务"
        NOTICE = "notice", "一次性告知"
        REFUSAL = "refusal", "不予办理"

    ref = models.CharField("服务编号", max_length=100, unique=True)
    kind = models.CharField("服务类型", max_length=20, choices=Kind.choices, default=Kind.CASE)
    application_ref = models.CharField("办件编号", max_length=40, blank=True, db_index=True)
    item_code = models.CharField("事项编码", max_length=64, blank=True, db_index=True)
    item_name = models.CharField("事项名称", max_length=200, blank=True)
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", verbose_name="部门")
    window = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name="窗口")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name="经办人")
    staff_label = models.CharField("经办人", max_length=100, blank=True)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="feedback_services", verbose_name="服务对象")
    person_name = models.CharField("服务对象姓名/名称", max_length=200, blank=True)
    person_id_number = EncryptedTextField("服务对象证件号码", max_length=32, blank=True)
    person_id_number_hash = LookupHashField("服务对象证件号码检索码", source="person_id_number")
    outcome = models.CharField("办理结果", max_length=20, blank=True)
    served_at = models.DateTimeField("服务时间", db_index=True)
    rate_until = models.DateTimeField("评价截止时间")

    class Meta:
        ordering = ["-served_at", "-id"]
        verbose_name = "服务记录"
        verbose_name_plural = "服务记录"

    def __str__(self) -> str:
        return f"{self.item_name or self.get_kind_display()}（{self.ref}）"


class Rating(models.Model):
    """A 好差评 rating: five levels, optional sub-indicators and a comment; once per service."""

    class Level(models.IntegerChoices):
        VERY_SATISFIED = 5, "非常满意"
        SATISFIED = 4, "满意"
        BASIC = 3, "基本满意"
        DISSATISFIED = 2, "不满意"
        VERY_DISSATISFIED = 1, "非常不满意"

    class Channel(models.TextChoices):
        WEB = "web", "网页"
        MOBILE = "mobile", "移动端"
        PAD = "pad", "窗口评价器"
        API = "api", "接口"

    BAD_LEVELS = (Level.DISSATISFIED, Level.VERY_DISSATISFIED)

    service = models.OneToOneField(ServiceRecord, on_delete=models.PROTECT, related_name="rating",
                                   verbose_name="服务")
    level = models.PositiveSmallIntegerField("评价等级", choices=Level.choices)
    indicators = models.JSONField("分项评价", default=dict, blank=True)
    comment = models.TextField("评价内容", blank=True)
    channel = models.CharField("评价渠道", max_length=10, choices=Channel.choices, default=Channel.WEB)
    real_name = models.BooleanField("实名评价", default=True)
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name="评价人")
    # Copied from the service for the public statistics (one table, no join).
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", verbose_name="部门")
    window = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name="窗口")
    item_code = models.CharField("事项编码", max_length=64, blank=True)
    created_at = models.DateTimeField("评价时间", db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["department", "level"]), models.Index(fields=["item_code", "level"])]
        verbose_name = "好差评"
        verbose_name_plural = "好差评"

    def __str__(self) -> str:
        return f"{self.get_level_display()} · {self.service}"

    @property
    def is_bad(self) -> bool:
        return self.level in self.BAD_LEVELS


class Rectification(models.Model):
    """差评整改: verify, rectify (at once or within ≤ 15 working days), revisit; or appeal to the office."""

    class Status(models.TextChoices):
        VERIFYING = "verifying", "待核实"
        RECTIFYING = "rectifying", "整改中"
        APPEALED = "appealed", "申诉中"
        REVISITING = "revisiting", "待回访"
        DONE = "done", "已办结"

    class Revisit(models.TextChoices):
        SATISFIED = "satisfied", "满意"
        BASIC = "basic", "基本满意"
        DISSATISFIED = "dissatisfied", "不满意"

    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="rectification")
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", verbose_name="责任部门")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.VERIFYING)
    verified_at = models.DateTimeField("核实时间", null=True, blank=True)
    verification = models.TextField("核实情况", blank=True)
    limit_days = models.PositiveSmallIntegerField("整改时限（工作日）", null=True, blank=True)
    due_on = models.DateField("整改期限", null=True, blank=True)
    rectified_at = models.DateTimeField("整改完成时间", null=True, blank=True)
    rectification = models.TextField("整改措施", blank=True)
    appeal_reason = models.TextField("申诉理由", blank=True)
    appealed_at = models.DateTimeField("申诉时间", null=True, blank=True)
    appeal_upheld = models.BooleanField("申诉成立", null=True, blank=True)
    appeal_decision = models.TextField("申诉裁定", blank=True)
    appeal_decided_at = models.DateTimeField("裁定时间", null=True, blank=True)
    revisited_at = models.DateTimeField("回访时间", null=True, blank=True)
    revisit_result = models.CharField("回访结果", max_length=12, choices=Revisit.choices, blank=True)
    revisit_note = models.TextField("回访记录", blank=True)
    created_at = models.DateTimeField("创建时间")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["department", "status"])]
        verbose_name = "差评整改"
        verbose_name_plural = "差评整改"

    def __str__(self) -> str:
        return f"整改 {self.rating.service.ref} · {self.get_status_display()}"

    def is_overdue(self, today: dt.date | None = None) -> bool:
        """Past its rectification deadline and not rectified yet."""
        today = today or timezone.localdate()
        return self.status == self.Status.RECTIFYING and self.due_on is not None and self.due_on < today


class WorkOrder(models.Model):
    """A 12345 hotline work order (工单)."""

    class Type(models.TextChoices):
        CONSULT = "consult", "咨询"
        HELP = "help", "求助"
        COMPLAINT = "complaint", "投诉"
        REPORT = "report", "举报"
        SUGGESTION = "suggestion", "建议"

    class Urgency(models.TextChoices):
        NORMAL = "normal", "一般"
        URGENT = "urgent", "紧急"

    class Channel(models.TextChoices):
        WEB = "web", "网页表单"
        API = "api", "接口"
        PHONE = "phone", "电话"
        IMPORT = "import", "批量导入"

    class Status(models.TextChoices):
        NEW = "new", "待派单"
        DISPATCHED = "dispatched", "已派单"
        RECEIVED = "received", "已签收"
        RETURNED = "returned", "已退单"
        ANSWERED = "answered", "已答复"
        CLOSED = "closed", "已办结"
        MERGED = "merged", "已合并"

    class Subject(models.TextChoices):
        NONE = "", "—"
        STAFF = "staff", "工作人员"
        ENTITY = "entity", "市场主体"
        ENFORCEMENT = "enforcement", "执法行为"

    class Satisfaction(models.TextChoices):
        NONE = "", "未评价"
        SATISFIED = "satisfied", "满意"
        DISSATISFIED = "dissatisfied", "不满意"

    OPEN_STATUSES = (Status.NEW, Status.DISPATCHED, Status.RECEIVED, Status.RETURNED)

    number = models.CharField("工单编号", max_length=24, unique=True)
    channel = models.CharField("来源渠道", max_length=10, choices=Channel.choices, default=Channel.WEB)
    text = models.TextField("诉求内容")
    type = models.CharField("诉求类型", max_length=12, choices=Type.choices)
    urgency = models.CharField("紧急程度", max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name="所在区划")
    address = models.CharField("事发地点", max_length=200, blank=True)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="work_orders", verbose_name="诉求人账号")
    anonymous = models.BooleanField("匿名", default=False)
    contact_name = models.CharField("诉求人", max_length=60, blank=True)
    contact_phone = models.CharField("联系电话", max_length=20, blank=True)
    subject = models.CharField("投诉举报对象类型", max_length=12, choices=Subject.choices, blank=True, default="")
    subject_name = models.CharField("对象名称/姓名", max_length=200, blank=True)
    subject_code = models.CharField("对象统一社会信用代码", max_length=18, blank=True)
    discipline = models.BooleanField("转纪检监察", default=False)
    department = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="承办部门")
    proposed_type = models.CharField("建议类型", max_length=12, blank=True)
    proposed_department = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL,
                                            related_name="+", verbose_name="建议承办部门")
    confidence = models.FloatField("分类置信度", null=True, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.NEW)
    dispatched_at = models.DateTimeField("派单时间", null=True, blank=True)
    receipt_due = models.DateTimeField("签收期限", null=True, blank=True)
    received_at = models.DateTimeField("签收时间", null=True, blank=True)
    handling_due = models.DateField("办理期限", null=True, blank=True)
    answer = models.TextField("答复内容", blank=True)
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    satisfaction = models.CharField("诉求人评价", max_length=12, choices=Satisfaction.choices, blank=True, default="")
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField("重办次数", default=0)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="duplicates", verbose_name="合并至")
    created_at = models.DateTimeField("受理时间", db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="受理话务员")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["department", "status"]), models.Index(fields=["status", "created_at"])]
        verbose_name = "12345工单"
        verbose_name_plural = "12345工单"

    def __str__(self) -> str:
        return f"{self.number} {self.get_type_display()}"

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        """Open past its handling deadline, or dispatched and not received past its receipt deadline."""
        now = now or timezone.now()
        if self.status not in self.OPEN_STATUSES:
            return False
        if self.status == self.Status.DISPATCHED and self.receipt_due is not None and self.receipt_due < now:
            return True
        return self.handling_due is not None and self.handling_due < timezone.localdate(now)


class WorkOrderEvent(models.Model):
    """The work order's history: intake, classify, dispatch, receive, return, answer, confirm, reopen, merge."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField("时间")
    kind = models.CharField("动作", max_length=20)
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    message = models.TextField("说明", blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "工单记录"
        verbose_name_plural = "工单记录"

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class TrainingExample(models.Model):
    """An operator's correction of the classifier (kept for retraining, ``tongban hotline train``)."""

    text = models.TextField("诉求内容")
    type = models.CharField("类型", max_length=12, choices=WorkOrder.Type.choices)
    department_code = models.CharField("承办部门", max_length=32)
    order = models.ForeignKey(WorkOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("时间", auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "分类训练样本"
        verbose_name_plural = "分类训练样本"

    def __str__(self) -> str:
        return f"{self.get_type_display()} → {self.department_code}"
