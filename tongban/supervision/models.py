"""Supervision after approval (事中事后监管): the market-entity register, credit, 审管联动 records, post-checks of
commitment approvals, 双随机一公开 draw plans, inspectors, draws and inspections, enforcement leads and the draw log.

Approval results reach this context as events (``core.events``): the models hold codes and references of other
contexts (application refs, item codes), never foreign keys into them, except core (divisions, organisations,
users) and the catalogue's items (by code).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tongban.core.models import Division, Organisation
from tongban.core.pii import EncryptedTextField

GRADES = ("A", "B", "C", "D")


class MarketEntity(models.Model):
    """市场主体: a legal person or an individual business, keyed by its unified social credit code."""

    class Kind(models.TextChoices):
        LEGAL_PERSON = "legal_person", "法人"
        INDIVIDUAL_BUSINESS = "individual_business", "个体工商户"

    class Status(models.TextChoices):
        ACTIVE = "active", "存续"
        CANCELLED = "cancelled", "注销"

    class Source(models.TextChoices):
        REGISTER = "register", "登记名录导入"
        LICENCE = "licence", "审批结果"
        APPLICATION = "application", "办件申请"
        DEMO = "demo", "演示数据"

    class Grade(models.TextChoices):
        A = "A", "A 级（诚信）"
        B = "B", "B 级（守信）"
        C = "C", "C 级（关注）"
        D = "D", "D 级（失信）"

    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    name = models.CharField("名称", max_length=200)
    kind = models.CharField("主体类型", max_length=24, choices=Kind.choices, default=Kind.LEGAL_PERSON)
    address = models.CharField("住所", max_length=300, blank=True)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name="所在区划")
    industry = models.CharField("行业门类", max_length=4, blank=True, help_text="GB/T 4754 门类代码，如 H")
    legal_representative = models.CharField("法定代表人/经营者", max_length=100, blank=True)
    established_on = models.DateField("成立日期", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField("来源", max_length=12, choices=Source.choices, default=Source.REGISTER)
    supervising_departments = models.ManyToManyField(Organisation, blank=True, related_name="+",
                                                     verbose_name="监管部门")
    licences = models.JSONField("持有许可", default=list, blank=True,
                                help_text='[{"item_code", "item_name", "application_ref", "on", "status"}]')
    grade = models.CharField("信用等级", max_length=1, choices=Grade.choices, default=Grade.B, db_index=True)
    credit_score = models.FloatField("信用分", default=85.0)
    grade_reasons = models.JSONField("等级理由", default=list, blank=True)
    graded_at = models.DateTimeField("评级时间", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uscc"]
        indexes = [models.Index(fields=["division", "industry"], name="sup_entity_scope"),
                   models.Index(fields=["status", "grade"], name="sup_entity_grade")]
        verbose_name = "市场主体"
        verbose_name_plural = "市场主体"

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"


class CreditEvent(models.Model):
    """信用记录: one fact that counts towards an entity's grade (negative points lower it, positive raise it)."""

    class Kind(models.TextChoices):
        COMMITMENT_BREACH = "commitment_breach", "告知承诺不实"
        PENALTY = "penalty", "行政处罚"
        SERIOUS_PENALTY = "serious_penalty", "严重违法失信"
        COMPLAINT_UPHELD = "complaint_upheld", "投诉查实"
        SUPPLEMENT_OVERDUE = "supplement_overdue", "容缺材料逾期未补"
        INSPECTION_FAILED = "inspection_failed", "抽查发现问题"
        INSPECTION_PASSED = "inspection_passed", "抽查未发现问题"
        POST_CHECK_PASSED = "post_check_passed", "事后核查通过"
        COMMENDATION = "commendation", "表彰奖励"

    entity = models.ForeignKey(MarketEntity, on_delete=models.CASCADE, related_name="credit_events")
    kind = models.CharField("类型", max_length=24, choices=Kind.choices)
    points = models.FloatField("分值")
    description = models.TextField("说明")
    source_ref = models.CharField("来源（办件号/抽查号）", max_length=64, blank=True)
    department = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="认定部门")
    occurred_on = models.DateField("发生日期", default=timezone.localdate)
    repaired = models.BooleanField("已信用修复", default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["entity", "repaired"], name="sup_credit_entity")]
        verbose_name = "信用记录"
        verbose_name_plural = "信用记录"

    def __str__(self) -> str:
        return f"{self.entity.name} {self.get_kind_display()}"


class CreditRepair(models.Model):
    """信用修复: the entity asks to remove a negative record from its grade after rectifying; a supervisor reviews."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已修复"
        REJECTED = "rejected", "不予修复"

    event = models.ForeignKey(CreditEvent, on_delete=models.CASCADE, related_name="repairs")
    reason = models.TextField("修复理由与整改情况")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    applied_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField("审核意见", blank=True)

    class Meta:
        ordering = ["-applied_at"]
        constraints = [models.UniqueConstraint(fields=["event"], condition=models.Q(status="pending"),
                                               name="sup_one_pending_repair")]
        verbose_name = "信用修复申请"
        verbose_name_plural = "信用修复申请"

    def __str__(self) -> str:
        return f"{self.event} 信用修复（{self.get_status_display()}）"


class SupervisionRecord(models.Model):
    """审管联动: an approval result pushed to the department that supervises the item, to be received (认领)."""

    class Kind(models.TextChoices):
        APPROVAL = "approval", "审批通过"
        COMMITMENT = "commitment", "告知承诺审批"
        CHANGE = "change", "变更"
        CANCELLATION = "cancellation", "注销"
        REJECTION = "rejection", "不予许可"

    class Status(models.TextChoices):
        PENDING = "pending", "待认领"
        RECEIVED = "received", "已认领"

    application_ref = models.CharField("办件编号", max_length=40)
    item_code = models.CharField("事项编码", max_length=64)
    item_name = models.CharField("事项名称", max_length=200)
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    entity = models.ForeignKey(MarketEntity, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="records")
    subject_name = models.CharField("主体名称", max_length=200)
    subject_id_number = EncryptedTextField("主体证件号码", max_length=32)  # a person's ID number for individuals
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="监管部门")
    approving_department = models.CharField("审批部门", max_length=64, blank=True)
    follow_up = models.CharField("后续监管措施", max_length=300, blank=True)
    created_at = models.DateTimeField("推送时间", default=timezone.now)
    receipt_due = models.DateField("认领期限")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["receipt_due", "id"]
        constraints = [models.UniqueConstraint(fields=["application_ref", "item_code", "department"],
                                               name="sup_one_record_per_result")]
        indexes = [models.Index(fields=["department", "status", "receipt_due"], name="sup_record_queue")]
        verbose_name = "审管联动记录"
        verbose_name_plural = "审管联动记录"

    def __str__(self) -> str:
        return f"{self.application_ref} {self.item_name} → {self.department}"


class PostCheck(models.Model):
    """事后核查 of an approval by commitment (告知承诺制): owned by supervision since issue 10."""

    class Status(models.TextChoices):
        PENDING = "pending", "待核查"
        PASSED = "passed", "核查通过"
        FAILED = "failed", "核查不通过"

    application_ref = models.CharField("办件编号", max_length=40, db_index=True)
    title = models.CharField("事项", max_length=300, blank=True)
    item_codes = models.JSONField("事项编码", default=list, blank=True)
    entity = models.ForeignKey(MarketEntity, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="post_checks")
    subject_name = models.CharField("主体名称", max_length=200)
    subject_id_number = EncryptedTextField("主体证件号码", max_length=32)
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField("核查期限")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    result = models.TextField("核查结果", blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [models.UniqueConstraint(fields=["application_ref", "department"],
                                               name="sup_one_post_check")]
        indexes = [models.Index(fields=["department", "status", "due_on"], name="sup_postcheck_queue")]
        verbose_name = "事后核查"
        verbose_name_plural = "事后核查"

    def __str__(self) -> str:
        return f"{self.application_ref} 事后核查（{self.get_status_display()}）"


class EnforcementLead(models.Model):
    """执法线索: a failed post-check, an inspection finding or a risk warning handed to enforcement."""

    class Source(models.TextChoices):
        POST_CHECK = "post_check", "事后核查"
        INSPECTION = "inspection", "双随机抽查"
        WARNING = "warning", "风险预警"

    class Status(models.TextChoices):
        OPEN = "open", "待处置"
        CLOSED = "closed", "已处置"

    entity = models.ForeignKey(MarketEntity, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="leads")
    subject_name = models.CharField("主体名称", max_length=200)
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    source = models.CharField("来源", max_length=12, choices=Source.choices)
    source_ref = models.CharField("来源编号", max_length=64, blank=True)
    description = models.TextField("线索内容")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    due_on = models.DateField("处置期限", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "执法线索"
        verbose_name_plural = "执法线索"

    def __str__(self) -> str:
        return f"{self.subject_name} {self.get_source_display()}线索"


class Inspector(models.Model):
    """执法检查人员 in the inspector register (检查人员名录库)."""

    code = models.CharField("执法证号", max_length=32, unique=True)
    name = models.CharField("姓名", max_length=50)
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="所属部门")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name="居住区划")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    conflicts = models.JSONField("申报回避的主体（统一社会信用代码）", default=list, blank=True)
    active = models.BooleanField("在岗", default=True)

    class Meta:
        ordering = ["department", "code"]
        verbose_name = "检查人员"
        verbose_name_plural = "检查人员"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class DrawPlan(models.Model):
    """双随机抽查计划: who draws, from which entities (scope), how many per credit grade, when, checking what."""

    code = models.CharField("计划编号", max_length=40, unique=True)
    name = models.CharField("计划名称", max_length=200)
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="抽查部门")
    item_codes = models.JSONField("事项范围", default=list, blank=True)
    industries = models.JSONField("行业范围", default=list, blank=True)
    division_codes = models.JSONField("区划范围", default=list, blank=True)
    ratios = models.JSONField("各信用等级抽查比例", default=dict, help_text='{"A": 0.02, "B": 0.05, ...}')
    inspectors_per_entity = models.PositiveSmallIntegerField("每户检查人员数", default=2)
    period_start = models.DateField("开始日期")
    period_end = models.DateField("结束日期")
    checklist = models.JSONField("检查事项清单", default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = "抽查计划"
        verbose_name_plural = "抽查计划"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Draw(models.Model):
    """One 双随机 draw: its seed, algorithm, the complete inputs (snapshot) and the outcome; recomputable."""

    plan = models.ForeignKey(DrawPlan, on_delete=models.PROTECT, related_name="draws")
    seed = models.CharField("随机种子", max_length=64)
    algorithm = models.CharField("算法", max_length=40)
    inputs = models.JSONField("输入快照")
    outcome = models.JSONField("抽取结果", help_text='[{"uscc", "inspectors": [code, ...]}]')
    inputs_sha256 = models.CharField(max_length=64)
    outcome_sha256 = models.CharField(max_length=64)
    log_index = models.PositiveIntegerField("日志序号", null=True, blank=True)
    drawn_at = models.DateTimeField(default=timezone.now)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        ordering = ["-drawn_at", "-id"]
        verbose_name = "抽取记录"
        verbose_name_plural = "抽取记录"

    def __str__(self) -> str:
        return f"{self.plan.code} #{self.pk}"


class Inspection(models.Model):
    """One drawn entity of a draw, its inspectors and (once done) its published result."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", "待检查"
        PASSED = "passed", "未发现问题"
        FAILED = "failed", "发现问题"

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="inspections")
    entity = models.ForeignKey(MarketEntity, on_delete=models.PROTECT, related_name="inspections")
    inspectors = models.ManyToManyField(Inspector, related_name="inspections")
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField("检查期限")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ASSIGNED)
    findings = models.TextField("检查结果", blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    published = models.BooleanField("已公示", default=False)

    class Meta:
        ordering = ["draw", "id"]
        constraints = [models.UniqueConstraint(fields=["draw", "entity"], name="sup_one_inspection")]
        verbose_name = "抽查检查"
        verbose_name_plural = "抽查检查"

    def __str__(self) -> str:
        return f"{self.draw} {self.entity.name}"


class RiskModel(models.Model):
    """A trained risk-warning model (风险预警模型): logistic-regression weights as JSON, and its held-out ROC AUC."""

    weights = models.JSONField("特征权重")
    intercept = models.FloatField("截距")
    features = models.JSONField("特征")
    auc = models.FloatField("留出集 ROC AUC")
    train_size = models.PositiveIntegerField()
    test_size = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    trained_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-trained_at", "-id"]
        verbose_name = "风险预警模型"
        verbose_name_plural = "风险预警模型"

    def __str__(self) -> str:
        return f"风险预警模型 {self.trained_at:%Y-%m-%d}（AUC {self.auc:.3f}）"


class LogEntry(models.Model):
    """The supervision log (draws and published results): an append-only RFC 6962 Merkle log; ``root`` is the
    tree head after this entry, so changing any earlier entry changes every later root."""

    index = models.PositiveIntegerField(unique=True)
    kind = models.CharField(max_length=24)
    payload = models.JSONField()
    leaf_hash = models.CharField(max_length=64)
    root = models.CharField("树根（追加后）", max_length=64)
    frontier = models.JSONField("追加后的右边界（完美子树的根）", default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["index"]
        verbose_name = "监管日志"
        verbose_name_plural = "监管日志"

    def __str__(self) -> str:
        return f"#{self.index} {self.kind}"
