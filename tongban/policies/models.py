"""免申即享 (benefits without applying): declarative policies over attributes of persons and entities, the matches
they find (each a proactive notice), opt-outs and the record of every matching run."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tongban.core.pii import EncryptedJSONField, EncryptedTextField, LookupHashField


class Policy(models.Model):
    """One version of a policy (补贴、津贴、费用减免、税收优惠): who qualifies (``rule``), on which legal basis, which
    data it uses, and the service item its application runs as. Published policies match; drafts only dry-run."""

    class Kind(models.TextChoices):
        SUBSIDY = "subsidy", "补贴"
        ALLOWANCE = "allowance", "津贴"
        FEE_WAIVER = "fee_waiver", "费用减免"
        TAX_RELIEF = "tax_relief", "税收优惠"

    class Subject(models.TextChoices):
        PERSON = "person", "自然人"
        ENTITY = "entity", "市场主体"

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"
        RETIRED = "retired", "已停用"

    code = models.CharField("政策编码", max_length=64, unique=True)
    name = models.CharField("政策名称", max_length=200)
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    subject = models.CharField("对象", max_length=8, choices=Subject.choices)
    department = models.CharField("实施部门（机构代码）", max_length=64, blank=True)
    description = models.TextField("政策内容", blank=True)
    legal_basis = models.JSONField("政策依据", default=list, help_text='[{"law": "文件名称", "article": "条款"}]')
    rule = models.JSONField("认定条件", default=list,
                            help_text='[{"attr": "entity.established_days", "op": "<=", "value": 365}] (all hold)')
    reason = models.CharField("告知理由（模板）", max_length=500, blank=True,
                              help_text="plain Chinese; {attribute} placeholders are filled from the match")
    events = models.JSONField("触发事件", default=list, blank=True,
                              help_text="birth_registered / licence_issued / entity_graded: match on these at once")
    item_code = models.CharField("申请事项编码", max_length=64, blank=True)
    prefill = models.JSONField("预填", default=dict, blank=True, help_text='form field → "attr:NAME" or a constant')
    auto_decide = models.BooleanField("规则自动审批", default=False,
                                      help_text="confirming submits at once; the item's decision table decides")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField("版本", default=1)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "惠企利民政策"
        verbose_name_plural = "惠企利民政策"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class MatchRun(models.Model):
    """One matching run: nightly batch, an event, or an officer's dry run (which notifies nobody)."""

    class Trigger(models.TextChoices):
        BATCH = "batch", "批量（夜间）"
        EVENT = "event", "事件"
        DRY_RUN = "dry_run", "试算"

    trigger = models.CharField("触发", max_length=10, choices=Trigger.choices)
    event = models.CharField("事件", max_length=40, blank=True)
    policy_codes = models.JSONField("政策", default=list)
    started_at = models.DateTimeField("开始", default=timezone.now)
    seconds = models.FloatField("用时（秒）", default=0)
    population = models.JSONField("人群规模", default=dict)
    counts = models.JSONField("每项政策的匹配数", default=dict,
                              help_text='{"CODE": {"matched": n, "new": n, "opted_out": n}}')
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "匹配运行"
        verbose_name_plural = "匹配运行"

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} {self.started_at:%Y-%m-%d %H:%M}"


class PolicyMatch(models.Model):
    """A subject that qualifies for a policy: the proactive notice (主动告知) and what the person did with it."""

    class Status(models.TextChoices):
        NOTIFIED = "notified", "已告知"
        CONFIRMED = "confirmed", "已确认申请"
        DECLINED = "declined", "不需要"
        OPTED_OUT = "opted_out", "已退订"

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="matches")
    subject_id_number = EncryptedTextField("证件号码/统一社会信用代码", max_length=32)
    subject_hash = LookupHashField("证件号码检索码", source="subject_id_number")
    subject_name = models.CharField("对象名称", max_length=200)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="policy_matches")
    reason = models.TextField("告知理由")
    facts = EncryptedJSONField("所用数据", default=dict, blank=True)  # the attribute values the rule used
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.NOTIFIED)
    run = models.ForeignKey(MatchRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    matched_at = models.DateTimeField("匹配时间", default=timezone.now)
    answered_at = models.DateTimeField("处理时间", null=True, blank=True)
    application_ref = models.CharField("办件编号", max_length=32, blank=True)

    class Meta:
        ordering = ["-matched_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["policy", "subject_hash"], name="policies_one_match")]
        verbose_name = "政策匹配（主动告知）"
        verbose_name_plural = "政策匹配（主动告知）"

    def __str__(self) -> str:
        return f"{self.policy.code} · {self.subject_name}"


class OptOut(models.Model):
    """A person who asked not to be told (about one policy, or any when ``policy`` is empty)."""

    subject_id_number = EncryptedTextField("证件号码/统一社会信用代码", max_length=32)
    subject_hash = LookupHashField("证件号码检索码", source="subject_id_number")
    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subject_hash", "policy"], name="policies_one_optout")]
        verbose_name = "退订"
        verbose_name_plural = "退订"

    def __str__(self) -> str:
        return f"退订 {self.policy.code if self.policy_id else '全部'}"
