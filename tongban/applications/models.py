"""Applications (办件): how citizens and businesses apply, and how windows and departments handle it.

One ``Application`` is either for one service item or for a one-thing bundle (一件事); each item of it is an
``ApplicationItem`` decided by its department on the workflow engine. Materials are content-addressed
``StoredFile`` blobs outside the web root.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from tongban.catalog.models import Bundle, Material, ServiceItem, Situation
from tongban.core.models import Organisation
from tongban.core.pii import EncryptedJSONField, EncryptedTextField, LookupHashField


class StoredFile(models.Model):
    """An uploaded file stored once by content hash under TONGBAN_HOME/files/blobs (outside the web root)."""

    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    size = models.PositiveBigIntegerField("大小（字节）")
    content_type = models.CharField("类型", max_length=100)
    original_name = models.CharField("原文件名", max_length=255, blank=True)
    scan_status = models.CharField("病毒扫描", max_length=20, default="clean")
    created_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "文件"
        verbose_name_plural = "文件"

    def __str__(self) -> str:
        return f"{self.original_name or self.sha256[:12]} ({self.size} B)"


class ProxyAuthorisation(models.Model):
    """帮办代办: a principal authorises an agent (or a window clerk) to apply on their behalf."""

    class Kind(models.TextChoices):
        AGENT = "agent", "委托代理人代办"
        CLERK = "clerk", "窗口帮办"

    principal = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="proxy_grants", verbose_name="委托人账号")
    principal_name = models.CharField("委托人", max_length=100)
    principal_id_number = EncryptedTextField("委托人证件号码", max_length=32)
    principal_id_number_hash = LookupHashField("委托人证件号码检索码", source="principal_id_number")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proxy_roles",
                              verbose_name="代理人")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices, default=Kind.AGENT)
    scope = models.CharField("授权范围", max_length=300)
    valid_until = models.DateField("有效期至")
    document = models.ForeignKey(StoredFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name="授权委托书")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name="登记人")
    created_at = models.DateTimeField("登记时间", default=timezone.now)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "代办授权"
        verbose_name_plural = "代办授权"

    def __str__(self) -> str:
        return f"{self.principal_name} → {self.agent}（{self.get_kind_display()}）"


class InvestmentProject(models.Model):
    """投资项目: a project code and stages; each stage's approvals run in parallel."""

    code = models.CharField("项目代码", max_length=40, unique=True)
    name = models.CharField("项目名称", max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="projects",
                              verbose_name="项目单位")
    location = models.CharField("建设地点", max_length=200, blank=True)
    total_investment = models.DecimalField("总投资（万元）", max_digits=14, decimal_places=2, default=0)
    created_at = models.DateTimeField("赋码时间", default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "投资项目"
        verbose_name_plural = "投资项目"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class ProjectStage(models.Model):
    STAGES = [
        ("land", "立项用地规划许可"),
        ("planning", "工程建设许可"),
        ("construction", "施工许可"),
        ("acceptance", "竣工验收"),
    ]
    project = models.ForeignKey(InvestmentProject, on_delete=models.CASCADE, related_name="stages")
    stage = models.CharField("阶段", max_length=20, choices=STAGES)
    order = models.PositiveSmallIntegerField(default=0)
    bundle = models.ForeignKey(Bundle, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["project", "order"]
        constraints = [models.UniqueConstraint(fields=["project", "stage"], name="uniq_project_stage")]
        verbose_name = "项目阶段"
        verbose_name_plural = "项目阶段"

    def __str__(self) -> str:
        return f"{self.project.code} {self.get_stage_display()}"


class Application(models.Model):
    """办件: one submission for one item or one bundle, by or on behalf of one applicant."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已提交待受理"
        INCOMPLETE = "incomplete", "材料不全（一次性告知）"
        REFUSED = "refused", "不予受理"
        IN_REVIEW = "in_review", "审批中"
        RESULT_HELD = "result_held", "已审结待补齐材料"
        APPROVED = "approved", "已办结（准予）"
        PARTIAL = "partial", "已办结（部分准予）"
        REJECTED = "rejected", "已办结（不予许可）"
        WITHDRAWN = "withdrawn", "已撤回"
        REVOKED = "revoked", "已撤销"

    OPEN_STATUSES = (Status.DRAFT, Status.SUBMITTED, Status.INCOMPLETE)  # the applicant's side may still edit
    PENDING_STATUSES = (Status.SUBMITTED, Status.INCOMPLETE)  # waiting at the windows (一窗受理)
    FINAL_STATUSES = (Status.APPROVED, Status.PARTIAL, Status.REJECTED)  # 办结

    class Channel(models.TextChoices):
        ONLINE = "online", "网上申请"
        WINDOW = "window", "窗口申请"

    ref = models.CharField("办件编号", max_length=32, unique=True)
    item = models.ForeignKey(ServiceItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name="事项")
    bundle = models.ForeignKey(Bundle, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name="一件事")
    title = models.CharField("办件名称", max_length=200)
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="applications", verbose_name="申请人账号")
    applicant_kind = models.CharField("申请人类型", max_length=10, default="natural")
    applicant_name = models.CharField("申请人", max_length=100)
    applicant_id_number = EncryptedTextField("申请人证件号码", max_length=32)
    applicant_id_number_hash = LookupHashField("申请人证件号码检索码", source="applicant_id_number")
    applicant_phone = EncryptedTextField("联系电话", max_length=20, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name="提交人")
    proxy = models.ForeignKey(ProxyAuthorisation, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="applications", verbose_name="代办授权")
    channel = models.CharField("申请渠道", max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    window = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name="受理窗口")
    project_stage = models.ForeignKey(ProjectStage, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="applications", verbose_name="投资项目阶段")
    form_data = EncryptedJSONField("表单数据", default=dict, blank=True)  # personal fields: encrypted as a whole
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.DRAFT)
    promised_limit_days = models.PositiveIntegerField("承诺时限（工作日）", null=True, blank=True)
    promised_visits = models.PositiveSmallIntegerField("承诺跑动次数", default=0)
    process_instance_id = models.BigIntegerField("流程实例", null=True, blank=True)
    verification_code = models.CharField("查验码", max_length=16, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    decided_at = models.DateTimeField("审结时间", null=True, blank=True)
    completed_at = models.DateTimeField("办结时间", null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name="受理人")
    refusal_reason = models.TextField("不予受理理由", blank=True)

    # Not a column: set in memory by services.intake.create_application on the application it returns (the rows
    # it wrote: "items", "materials", "events"), so that its caller answers without reading them back.
    written: dict[str, list[Any]]

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["applicant", "status"], name="app_applicant_status"),
            models.Index(fields=["status", "submitted_at"], name="app_status_submitted"),
        ]
        verbose_name = "办件"
        verbose_name_plural = "办件"

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"


class ApplicationItem(models.Model):
    """One item of an application, decided by its department (one process instance)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待受理"
        IN_REVIEW = "in_review", "审批中"
        RETURNED = "returned", "退回补正"
        APPROVED = "approved", "准予"
        REJECTED = "rejected", "不予许可"
        REVOKED = "revoked", "已撤销"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="+")
    situation = models.ForeignKey(Situation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    by_commitment = models.BooleanField("告知承诺办理", default=False)
    process_instance_id = models.BigIntegerField("流程实例", null=True, blank=True)
    opinion = models.TextField("审批意见", blank=True)
    decided_at = models.DateTimeField("审结时间", null=True, blank=True)
    decided_by = models.CharField("审批人", max_length=150, blank=True)
    result = models.JSONField("审批结果", default=dict, blank=True)

    class Meta:
        ordering = ["application", "id"]
        constraints = [models.UniqueConstraint(fields=["application", "item"], name="uniq_application_item")]
        verbose_name = "办件事项"
        verbose_name_plural = "办件事项"

    def __str__(self) -> str:
        return f"{self.application.ref} · {self.item.name}"


class ApplicationMaterial(models.Model):
    """A material of an application (provided once even when several items need it)."""

    class Status(models.TextChoices):
        PROVIDED = "provided", "已提交"
        FETCHED = "fetched", "已调取（免提交）"
        COMMITMENT = "commitment", "告知承诺替代"
        MISSING = "missing", "缺失"
        TOLERATED = "tolerated", "容缺待补"
        SUPPLEMENTED = "supplemented", "已补齐"
        WAIVED = "waived", "免提交"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="materials")
    key = models.CharField("材料标识", max_length=120)
    name = models.CharField("材料名称", max_length=200)
    materials = models.ManyToManyField(Material, related_name="+", blank=True)
    item_codes = models.JSONField("所需事项", default=list)
    requirement = models.CharField("必要性", max_length=10, default=Material.Requirement.REQUIRED)
    source = models.CharField("来源", max_length=10, default=Material.Source.APPLICANT)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.MISSING)
    file = models.ForeignKey(StoredFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    evidence = EncryptedJSONField("调取的证明", default=dict, blank=True)  # a register's record of the applicant
    provided_at = models.DateTimeField("提交时间", null=True, blank=True)

    class Meta:
        ordering = ["application", "id"]
        constraints = [models.UniqueConstraint(fields=["application", "key"], name="uniq_application_material")]
        verbose_name = "办件材料"
        verbose_name_plural = "办件材料"

    def __str__(self) -> str:
        return f"{self.name}（{self.get_status_display()}）"


class Commitment(models.Model):
    """告知承诺: the applicant commits instead of providing some materials; supervision's post-check follows."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="commitment")
    text = models.TextField("承诺内容")
    material_keys = models.JSONField("承诺替代的材料", default=list)
    signer_name = models.CharField("承诺人", max_length=100)
    signed_at = models.DateTimeField("承诺时间", default=timezone.now)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        verbose_name = "告知承诺书"
        verbose_name_plural = "告知承诺书"

    def __str__(self) -> str:
        return f"{self.application.ref} 告知承诺"


class Supplement(models.Model):
    """容缺受理 / 一次性告知 follow-up: materials still owed, by a deadline."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="supplements")
    material_keys = models.JSONField("待补材料", default=list)
    deadline = models.DateField("补齐期限")
    suspends_clock = models.BooleanField("补正期间中止计时", default=False)
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    reminders = models.JSONField("提醒记录", default=list, blank=True)
    fulfilled_at = models.DateTimeField("补齐时间", null=True, blank=True)

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = "容缺补正"
        verbose_name_plural = "容缺补正"

    def __str__(self) -> str:
        return f"{self.application.ref} 补正至 {self.deadline}"


class Visit(models.Model):
    """An on-site visit (跑动) of the applicant, counted against the catalogue's promise."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="visits")
    window = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    purpose = models.CharField("事由", max_length=100)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at"]
        verbose_name = "现场跑动"
        verbose_name_plural = "现场跑动"

    def __str__(self) -> str:
        return f"{self.application.ref} {self.purpose}"


class Notice(models.Model):
    """A PDF notice with a verification code: 受理通知书, 一次性告知书, 不予受理通知书, 办结通知书."""

    class Kind(models.TextChoices):
        ACCEPTANCE = "acceptance", "受理通知书"
        ONE_TIME = "one_time", "一次性告知书"
        REFUSAL = "refusal", "不予受理通知书"
        RESULT = "result", "办结通知书"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    code = models.CharField("查验码", max_length=16, unique=True)
    file = models.ForeignKey(StoredFile, on_delete=models.PROTECT, related_name="+")
    content = models.JSONField("内容", default=dict)
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["issued_at"]
        verbose_name = "告知文书"
        verbose_name_plural = "告知文书"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code}"


class ApplicationEvent(models.Model):
    """The applicant-visible timeline of an application (every step and its time)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField("类型", max_length=40)
    message = models.CharField("说明", max_length=300)
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "办件进度"
        verbose_name_plural = "办件进度"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.message}"


class SequenceCounter(models.Model):
    """The last number handed out under one prefix (办件编号 per day, 投资项目代码 per year).

    ``services.common.next_in_sequence`` increments it with ``UPDATE … RETURNING``: the row lock makes
    concurrent creates queue for a moment instead of colliding on the unique reference."""

    prefix = models.CharField("前缀", max_length=40, unique=True)
    last = models.PositiveBigIntegerField("最后序号", default=0)

    class Meta:
        verbose_name = "编号计数器"
        verbose_name_plural = "编号计数器"

    def __str__(self) -> str:
        return f"{self.prefix}{self.last}"


class AutoDecision(models.Model):
    """An automatic decision (秒批) of one application item by its DMN decision table: the table and version,
    the inputs as evaluated, the rules that hit and the outcome. Kept for audit: ``tongban decision explain
    CASE_NO`` re-runs the recorded version over the recorded inputs and says whether it still agrees."""

    class Outcome(models.TextChoices):
        APPROVE = "approve", "规则准予（秒批）"
        REFER = "refer", "转人工审查"

    application_item = models.OneToOneField(ApplicationItem, on_delete=models.CASCADE, related_name="auto_decision")
    decision_key = models.CharField("决策表", max_length=100)
    decision_name = models.CharField("决策表名称", max_length=200, blank=True)
    decision_version = models.PositiveIntegerField("决策表版本")
    inputs = EncryptedJSONField("输入", default=dict, blank=True)  # personal data: encrypted as a whole
    sources = models.JSONField("输入来源", default=dict, blank=True)
    missing = models.JSONField("缺少的输入", default=list, blank=True)
    result = models.JSONField("决策结果", default=dict, blank=True)
    hits = models.JSONField("命中规则", default=list, blank=True)
    outcome = models.CharField("结论", max_length=10, choices=Outcome.choices)
    reason = models.CharField("理由", max_length=300, blank=True)
    decided_at = models.DateTimeField("决策时间", default=timezone.now)
    elapsed_ms = models.PositiveIntegerField("用时（毫秒）", default=0)

    class Meta:
        ordering = ["decided_at", "id"]
        verbose_name = "秒批决策记录"
        verbose_name_plural = "秒批决策记录"

    def __str__(self) -> str:
        return f"{self.decision_key} v{self.decision_version}: {self.outcome}"


class AssistanceRequest(models.Model):
    """帮办预约: a person (often elderly or with a disability) asks the service centre for help, at a window or by
    phone; the centre's window clerks see the request on their workbench and mark it handled."""

    class Channel(models.TextChoices):
        WINDOW = "window", "到窗口，工作人员陪同办理"
        PHONE = "phone", "电话联系，工作人员指导办理"

    class Period(models.TextChoices):
        MORNING = "morning", "上午（9:00–12:00）"
        AFTERNOON = "afternoon", "下午（13:30–17:00）"
        ANY = "any", "时间都可以"

    name = models.CharField("姓名", max_length=50)
    phone = EncryptedTextField("联系电话", max_length=20)  # personal data: encrypted at rest (docs/privacy.md)
    service = models.CharField("要办的事", max_length=200)
    item = models.ForeignKey(ServiceItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name="事项")
    channel = models.CharField("帮办方式", max_length=10, choices=Channel.choices, default=Channel.WINDOW)
    centre = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="assistance_requests",
                               verbose_name="政务服务中心")
    preferred_date = models.DateField("希望日期", null=True, blank=True)
    preferred_period = models.CharField("希望时段", max_length=10, choices=Period.choices, default=Period.ANY)
    note = models.CharField("其他说明", max_length=300, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name="提交账号")
    created_at = models.DateTimeField("提交时间", default=timezone.now)
    handled_at = models.DateTimeField("办理时间", null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="办理人")
    handled_note = models.CharField("办理情况", max_length=300, blank=True)

    class Meta:
        ordering = ["handled_at", "created_at"]
        verbose_name = "帮办预约"
        verbose_name_plural = "帮办预约"

    def __str__(self) -> str:
        return f"{self.name}：{self.service}"
