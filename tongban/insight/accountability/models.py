"""insight's tables for 容错纠错: accountability leads and fault-tolerance applications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tongban.core.models import Organisation


class AccountabilityLead(models.Model):
    """问责线索: a failure the platform recorded, to be accounted for by a department (and an official, if one is
    named). Raised once per source record (idempotent scan)."""

    class Source(models.TextChoices):
        RED_LIGHT = "red_light", "红灯超期"
        POST_CHECK = "post_check", "事后核查不通过"
        RECTIFICATION = "rectification", "差评整改逾期"

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        APPLIED = "applied", "容错申请审核中"
        DECIDED = "decided", "已认定"

    class Determination(models.TextChoices):
        NONE = "", "—"
        EXEMPT = "exempt", "免责"
        LENIENT = "lenient", "从轻"
        REFUSED = "refused", "不予容错"

    ACCEPTED = (Determination.EXEMPT, Determination.LENIENT)

    source = models.CharField("来源", max_length=16, choices=Source.choices)
    source_ref = models.CharField("来源记录", max_length=64)
    department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", verbose_name="责任部门")
    official = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name="责任人")
    official_label = models.CharField("责任人", max_length=150, blank=True)
    subject = models.CharField("线索", max_length=300)
    occurred_on = models.DateField("发生日期")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    determination = models.CharField("认定结果", max_length=10, choices=Determination.choices, blank=True)
    created_at = models.DateTimeField("发现时间", default=timezone.now)

    class Meta:
        app_label = "insight"
        ordering = ["-occurred_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["source", "source_ref"], name="ins_lead_one_per_source")]
        indexes = [models.Index(fields=["department", "occurred_on"], name="ins_lead_dept_day")]
        verbose_name = "问责线索"
        verbose_name_plural = "问责线索"

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.subject}"

    @property
    def tolerated(self) -> bool:
        """An accepted determination (免责 or 从轻): excluded from the department's penalty indicators."""
        return self.determination in self.ACCEPTED


class ToleranceApplication(models.Model):
    """容错申请: the official's application, with the reform-innovation reason and the criteria claimed, and the
    reviewer's determination with the criteria found met."""

    lead = models.OneToOneField(AccountabilityLead, on_delete=models.CASCADE, related_name="application",
                                verbose_name="问责线索")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                  verbose_name="申请人")
    applicant_label = models.CharField("申请人", max_length=150)
    reform_reason = models.TextField("改革创新事由")
    criteria_claimed = models.JSONField("申请人主张的容错情形", default=list)
    submitted_at = models.DateTimeField("申请时间", default=timezone.now)
    decision = models.CharField("认定结果", max_length=10, choices=AccountabilityLead.Determination.choices,
                                blank=True)
    criteria_met = models.JSONField("经审核符合的情形", default=list, blank=True)
    decision_reason = models.TextField("认定理由", blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="审核人")
    decided_by_label = models.CharField("审核人", max_length=150, blank=True)
    decided_at = models.DateTimeField("认定时间", null=True, blank=True)

    class Meta:
        app_label = "insight"
        ordering = ["-submitted_at", "-id"]
        verbose_name = "容错申请"
        verbose_name_plural = "容错申请"

    def __str__(self) -> str:
        return f"容错申请 {self.lead.subject}"
