"""Security operations (信息安全队伍, 应急响应): security incidents opened by detection rules, the persons whose data
was involved, the notices they receive (《个人信息保护法》第五十七条) and the record of each scan."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tongban.core.pii import EncryptedTextField, LookupHashField


class Severity(models.TextChoices):
    LOW = "low", "低"
    MEDIUM = "medium", "中"
    HIGH = "high", "高"
    CRITICAL = "critical", "严重"


SEVERITY_ORDER = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


class SecurityIncident(models.Model):
    """A security incident (安全事件) a detection rule opened; its response runs as the process
    ``security_incident_response`` (triage → contain → notify → close with a report)."""

    class Status(models.TextChoices):
        TRIAGE = "triage", "待研判"
        CONTAINMENT = "containment", "处置中"
        NOTIFICATION = "notification", "告知中"
        REPORT = "report", "待结案报告"
        CLOSED = "closed", "已结案"

    rule = models.CharField("检测规则", max_length=64, db_index=True)
    title = models.CharField("事件摘要", max_length=300)
    severity = models.CharField("严重程度", max_length=10, choices=Severity.choices, db_index=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.TRIAGE, db_index=True)
    dismissed = models.BooleanField("研判为误报", default=False)
    opened_at = models.DateTimeField("发现时间", default=timezone.now, db_index=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    subject_label = models.CharField("涉事主体", max_length=200, blank=True,
                                     help_text="接入系统（client:名称）、工作人员账号或“平台”")
    subject_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name="涉事账号")
    subject_org = models.CharField("涉事部门", max_length=32, blank=True)
    dedup_key = models.CharField("去重键", max_length=200, db_index=True)
    window_start = models.DateTimeField("检测窗口起", null=True, blank=True)
    window_end = models.DateTimeField("检测窗口止", null=True, blank=True)
    evidence = models.JSONField("证据", default=dict, blank=True)
    notice_text = models.TextField("告知个人的说明", blank=True)
    process_instance_id = models.BigIntegerField("应急响应流程实例", null=True, blank=True)
    triage_note = models.TextField("研判意见", blank=True)
    containment_note = models.TextField("处置措施", blank=True)
    notified_at = models.DateTimeField("告知时间", null=True, blank=True)
    report = models.TextField("结案报告", blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name="结案人")

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = "安全事件"
        verbose_name_plural = "安全事件"

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_severity_display()} {self.title}"


class AffectedPerson(models.Model):
    """A person whose data (or account) an incident involved: by ID number (the access log's subject) and, when
    the person has an account, the user who sees the notice on 我的数据."""

    incident = models.ForeignKey(SecurityIncident, on_delete=models.CASCADE, related_name="affected",
                                 verbose_name="安全事件")
    subject_id = EncryptedTextField("主体标识", max_length=64)  # an ID number: encrypted at rest (docs/privacy.md)
    subject_id_hash = LookupHashField("主体标识检索码", source="subject_id", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name="账号")
    detail = models.JSONField("涉及情况", default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["incident", "subject_id_hash"], name="uniq_affected_person")]
        verbose_name = "涉及人员"
        verbose_name_plural = "涉及人员"

    def __str__(self) -> str:
        return f"#{self.incident_id} {self.subject_id}"


class IncidentNotice(models.Model):
    """The notice a person receives about an incident involving their data (《个人信息保护法》第五十七条)."""

    incident = models.ForeignKey(SecurityIncident, on_delete=models.CASCADE, related_name="notices",
                                 verbose_name="安全事件")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security_notices",
                               verbose_name="告知对象")
    text = models.TextField("告知内容")
    created_at = models.DateTimeField("告知时间", default=timezone.now)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["incident", "person"], name="uniq_incident_notice")]
        verbose_name = "安全事件告知"
        verbose_name_plural = "安全事件告知"

    def __str__(self) -> str:
        return f"#{self.incident_id} → {self.person_id}"


class ScanRun(models.Model):
    """One run of the detection rules (``tongban security scan`` or the periodic job)."""

    at = models.DateTimeField("检测时间", default=timezone.now, db_index=True)
    trigger = models.CharField("触发方式", max_length=16, default="manual")
    findings = models.IntegerField("发现", default=0)
    opened = models.IntegerField("新开事件", default=0)
    errors = models.JSONField("规则错误", default=list, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "安全检测记录"
        verbose_name_plural = "安全检测记录"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} findings={self.findings} opened={self.opened}"
