"""Enforcement (行政执法): items with discretion benchmarks (裁量基准), leads, cases on the workflow engine, the
append-only case record (全过程记录) and publication (公示)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from tongban.core.models import Organisation
from tongban.core.pii import EncryptedTextField


class PenaltyKind(models.TextChoices):
    """The kinds of administrative penalty (《行政处罚法》第九条) plus 不予处罚."""

    WARNING = "warning", "警告"
    CRITICISM = "criticism", "通报批评"
    FINE = "fine", "罚款"
    CONFISCATE_INCOME = "confiscate_income", "没收违法所得"
    CONFISCATE_PROPERTY = "confiscate_property", "没收非法财物"
    SUSPEND_LICENCE = "suspend_licence", "暂扣许可证件"
    DOWNGRADE = "downgrade", "降低资质等级"
    REVOKE_LICENCE = "revoke_licence", "吊销许可证件"
    RESTRICT_BUSINESS = "restrict_business", "限制开展生产经营活动"
    SUSPEND_BUSINESS = "suspend_business", "责令停产停业"
    CLOSE = "close", "责令关闭"
    BAR = "bar", "限制从业"
    NONE = "none", "不予行政处罚"


class Level(models.TextChoices):
    """Circumstance levels (情节等级) of a benchmark, mildest first."""

    MINOR = "minor", "轻微"
    GENERAL = "general", "一般"
    SERIOUS = "serious", "较重"
    SEVERE = "severe", "严重"


LEVEL_RANK: dict[str, int] = {Level.MINOR: 1, Level.GENERAL: 2, Level.SERIOUS: 3, Level.SEVERE: 4}


class FactorKind(models.TextChoices):
    """Factors that move a penalty (《行政处罚法》第三十二条、第三十三条; the city's benchmark for 从重)."""

    EXEMPT_FIRST = "exempt_first", "首违不罚"
    LIGHTER = "lighter", "从轻"
    MITIGATED = "mitigated", "减轻"
    HEAVIER = "heavier", "从重"


class EnforcementItem(models.Model):
    """An enforcement item (执法事项 / 违法行为) with its legal basis; its benchmark levels hang below it."""

    code = models.CharField("违法行为编码", max_length=40, unique=True)
    name = models.CharField("违法行为", max_length=200)
    department = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="enforcement_items", verbose_name="执法部门")
    law = models.CharField("法律依据（法律法规名称）", max_length=120)
    article = models.CharField("条款", max_length=80)
    basis_text = models.TextField("条文摘要", blank=True)
    penalty_basis = models.CharField("处罚依据", max_length=200, blank=True)
    measure = models.CharField("裁量主要事实（字段）", max_length=40)
    measure_label = models.CharField("裁量主要事实（名称）", max_length=60)
    #: working-day limits of the case steps, e.g. {"filing": 5, "investigate": 30, ...}
    step_limits = models.JSONField("各环节时限（工作日）", default=dict, blank=True)
    active = models.BooleanField("有效", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "执法事项"
        verbose_name_plural = "执法事项"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def legal_basis(self) -> str:
        return f"《{self.law}》{self.article}"


class BenchmarkLevel(models.Model):
    """One circumstance level of an item's benchmark: the facts it covers and the penalty range.

    The facts: the item's main measure (e.g. 货值金额) in ``[measure_from, measure_to)`` (``measure_to`` empty:
    no upper bound) and every entry of ``conditions`` (e.g. ``{"crowded_place": true}``) equal in the case's facts.
    Amounts are specs: ``"50000"`` (yuan) or ``"10x"`` (times the measure); ``law_min``/``law_max`` is the
    statutory range the level lies in, ``fine_min``/``fine_max`` the benchmark's range inside it.
    """

    item = models.ForeignKey(EnforcementItem, on_delete=models.CASCADE, related_name="levels")
    level = models.CharField("情节等级", max_length=10, choices=Level.choices)
    facts = models.CharField("违法情节", max_length=300)
    measure_from = models.DecimalField("事实下限（含）", max_digits=16, decimal_places=2, default=0)
    measure_to = models.DecimalField("事实上限（不含）", max_digits=16, decimal_places=2, null=True, blank=True)
    conditions = models.JSONField("其他情节条件", default=dict, blank=True)
    penalty_kinds = models.JSONField("处罚种类", default=list)
    fine_min = models.CharField("罚款下限", max_length=20, blank=True)
    fine_max = models.CharField("罚款上限", max_length=20, blank=True)
    law_min = models.CharField("法定罚款下限", max_length=20, blank=True)
    law_max = models.CharField("法定罚款上限", max_length=20, blank=True)
    position = models.PositiveSmallIntegerField("序号", default=0)

    class Meta:
        ordering = ["item", "position", "pk"]
        verbose_name = "裁量基准等级"
        verbose_name_plural = "裁量基准等级"

    def __str__(self) -> str:
        return f"{self.item.code} {self.get_level_display()}"

    @property
    def rank(self) -> int:
        return LEVEL_RANK.get(self.level, 0)


class Factor(models.Model):
    """A factor that moves the penalty; ``item`` empty: applies to every item. ``fact``: the fact (boolean) of a
    case that claims it, e.g. ``first_offence``."""

    code = models.CharField("编码", max_length=40, unique=True)
    item = models.ForeignKey(EnforcementItem, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="factors")
    kind = models.CharField("类型", max_length=20, choices=FactorKind.choices)
    fact = models.CharField("情节字段", max_length=40)
    description = models.CharField("情形", max_length=300)
    legal_basis = models.CharField("依据", max_length=200)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = "裁量因素"
        verbose_name_plural = "裁量因素"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.description}"


class Lead(models.Model):
    """A lead (案件线索): from a failed post-check, an inspection, a risk warning, a complaint, or entered by hand."""

    class Source(models.TextChoices):
        POST_CHECK = "post_check", "事后核查不通过"
        INSPECTION = "inspection", "检查发现"
        RISK = "risk", "风险预警"
        COMPLAINT = "complaint", "投诉举报"
        MANUAL = "manual", "人工登记"

    class Status(models.TextChoices):
        NEW = "new", "待处理"
        CASE_OPENED = "case_opened", "已转案件"
        DISMISSED = "dismissed", "不予立案"

    ref = models.CharField("线索编号", max_length=32, unique=True)
    source = models.CharField("来源", max_length=20, choices=Source.choices)
    entity_uscc = EncryptedTextField("统一社会信用代码/证件号码", max_length=32, blank=True)  # may be a person's ID
    entity_name = models.CharField("当事人", max_length=200)
    item_code = models.CharField("涉嫌违法行为编码", max_length=40, blank=True)
    description = models.TextField("线索内容")
    department = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="enforcement_leads", verbose_name="执法部门")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.NEW)
    reported_at = models.DateTimeField("登记时间", auto_now_add=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["-reported_at", "-pk"]
        verbose_name = "案件线索"
        verbose_name_plural = "案件线索"

    def __str__(self) -> str:
        return f"{self.ref} {self.entity_name}"


class EnforcementCase(models.Model):
    """An administrative penalty case (行政处罚案件) run as the ``enforcement_case`` process."""

    class Stage(models.TextChoices):
        FILING = "filing", "待立案审批"
        NOT_FILED = "not_filed", "不予立案"
        INVESTIGATING = "investigating", "调查取证"
        LEGAL_REVIEW = "legal_review", "法制审核"
        NOTIFYING = "notifying", "告知与陈述申辩"
        HEARING = "hearing", "听证"
        DECIDING = "deciding", "待作出决定"
        SERVING = "serving", "送达"
        EXECUTING = "executing", "执行"
        CLOSING = "closing", "待结案"
        CLOSED = "closed", "已结案"

    class Review(models.TextChoices):
        NONE = "none", "未审核"
        PENDING = "pending", "审核中"
        APPROVED = "approved", "审核通过"
        REJECTED = "rejected", "审核不通过"

    class PartyKind(models.TextChoices):
        NATURAL = "natural", "自然人"
        LEGAL = "legal", "法人或其他组织"

    case_no = models.CharField("案件编号", max_length=40, unique=True)
    item = models.ForeignKey(EnforcementItem, on_delete=models.PROTECT, related_name="cases",
                             verbose_name="违法行为")
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="enforcement_cases",
                                   verbose_name="执法部门")
    lead = models.OneToOneField(Lead, null=True, blank=True, on_delete=models.PROTECT, related_name="case")
    party_kind = models.CharField("当事人类型", max_length=10, choices=PartyKind.choices, default=PartyKind.LEGAL)
    party_name = models.CharField("当事人", max_length=200)
    party_id_number = EncryptedTextField("统一社会信用代码/身份证号", max_length=32, blank=True)  # encrypted at rest
    summary = models.TextField("案情摘要", blank=True)
    facts = models.JSONField("裁量情节", default=dict, blank=True)
    stage = models.CharField("环节", max_length=20, choices=Stage.choices, default=Stage.FILING, db_index=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    filed_on = models.DateField("立案日期", null=True, blank=True)
    decision_due_on = models.DateField("决定期限", null=True, blank=True)
    extension_days = models.PositiveIntegerField("延长天数", default=0)
    extension_reason = models.CharField("延长理由", max_length=300, blank=True)
    #: clock suspensions [{"start": iso, "end": iso | null, "reason": str}] (听证 etc.)
    suspensions = models.JSONField("中止计时", default=list, blank=True)
    proposal = models.JSONField("拟处罚意见", default=dict, blank=True)
    review_status = models.CharField("法制审核", max_length=10, choices=Review.choices, default=Review.NONE)
    review_opinion = models.TextField("法制审核意见", blank=True)
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    notified_on = models.DateField("告知日期", null=True, blank=True)
    hearing_deadline = models.DateField("听证申请截止", null=True, blank=True)
    hearing_requested_on = models.DateField("申请听证日期", null=True, blank=True)
    hearing_held_on = models.DateField("听证日期", null=True, blank=True)
    decision_kinds = models.JSONField("处罚种类", default=list, blank=True)
    fine = models.DecimalField("罚款金额", max_digits=16, decimal_places=2, null=True, blank=True)
    decision_level = models.CharField("情节等级", max_length=10, choices=Level.choices, blank=True)
    decision_factors = models.JSONField("适用裁量因素", default=list, blank=True)
    justification = models.TextField("裁量理由", blank=True)
    decision_text = models.TextField("决定内容", blank=True)
    decided_on = models.DateField("决定日期", null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    served_on = models.DateField("送达日期", null=True, blank=True)
    executed_on = models.DateField("执行完毕日期", null=True, blank=True)
    closed_on = models.DateField("结案日期", null=True, blank=True)
    process_instance_id = models.CharField("流程实例", max_length=20, blank=True)
    publish_due_on = models.DateField("公示期限", null=True, blank=True)
    published_at = models.DateTimeField("公示时间", null=True, blank=True)
    withdrawn_at = models.DateTimeField("撤下时间", null=True, blank=True)
    withdrawal_reason = models.CharField("撤下理由", max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["published_at", "withdrawn_at"])]
        verbose_name = "行政处罚案件"
        verbose_name_plural = "行政处罚案件"

    def __str__(self) -> str:
        return f"{self.case_no} {self.party_name}"

    @property
    def is_penalty(self) -> bool:
        return bool(self.decision_kinds) and self.decision_kinds != [PenaltyKind.NONE]

    def kinds_display(self) -> str:
        labels = dict(PenaltyKind.choices)
        return "、".join(labels.get(k, k) for k in self.decision_kinds)


class CaseRecord(models.Model):
    """全过程记录: one entry of a case's file: who, when, which step, what, with attachments (SHA-256).

    Append-only: a saved record is never changed or deleted; a correction is a new record that ``amends`` it.
    """

    case = models.ForeignKey(EnforcementCase, on_delete=models.PROTECT, related_name="records")
    seq = models.PositiveIntegerField("序号")
    at = models.DateTimeField("时间")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_label = models.CharField("记录人", max_length=150)
    step = models.CharField("环节", max_length=20)
    action = models.CharField("事项", max_length=40)
    text = models.TextField("内容", blank=True)
    data = models.JSONField("数据", default=dict, blank=True)
    #: [{"name", "sha256", "size", "path" (stored file) | "uri" (audio/video by reference), "kind"}]
    attachments = models.JSONField("附件", default=list, blank=True)
    amends = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendments",
                               verbose_name="更正的记录")

    class Meta:
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="uniq_enforcement_record_seq")]
        verbose_name = "执法全过程记录"
        verbose_name_plural = "执法全过程记录"

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            from .errors import RECORD_IMMUTABLE, EnforcementError

            raise EnforcementError("执法记录不可修改，请以新记录更正", code=RECORD_IMMUTABLE, status=409)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        from .errors import RECORD_IMMUTABLE, EnforcementError

        raise EnforcementError("执法记录不可删除", code=RECORD_IMMUTABLE, status=409)


class Certificate(models.Model):
    """A law-enforcement certificate (行政执法证) of a staff member: published before enforcement (事前公开: 执法主体、
    执法人员及其执法证号)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enforcement_certificates")
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="enforcement_certificates",
                                   verbose_name="执法主体")
    number = models.CharField("执法证号", max_length=40, unique=True)
    field = models.CharField("执法类别", max_length=100, blank=True)
    valid_until = models.DateField("有效期至")
    active = models.BooleanField("有效", default=True)

    class Meta:
        ordering = ["department", "number"]
        verbose_name = "行政执法证"
        verbose_name_plural = "行政执法证"

    def __str__(self) -> str:
        return f"{self.user} {self.number}"
