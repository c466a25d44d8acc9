"""Data exchange (数据共享交换): resource catalogue, grants, consents, the access log and demo registers."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from tongban.core.models import Organisation
from tongban.core.pii import EncryptedJSONField, EncryptedTextField, LookupHashField


class SharingType(models.TextChoices):
    """Sharing type of a government information resource (政务信息资源共享类型)."""

    UNCONDITIONAL = "unconditional", "无条件共享"
    CONDITIONAL = "conditional", "有条件共享"
    NOT_SHARED = "not_shared", "不予共享"


class Sensitivity(models.TextChoices):
    """Sensitivity class of one field of a record."""

    PUBLIC = "public", "公开"
    INTERNAL = "internal", "内部"
    PERSONAL = "personal", "个人信息"
    SENSITIVE_PERSONAL = "sensitive_personal", "敏感个人信息"


MASKED_SENSITIVITIES = frozenset({Sensitivity.PERSONAL, Sensitivity.SENSITIVE_PERSONAL})


class UpdateFrequency(models.TextChoices):
    REALTIME = "realtime", "实时"
    DAILY = "daily", "每日"
    WEEKLY = "weekly", "每周"
    MONTHLY = "monthly", "每月"
    QUARTERLY = "quarterly", "每季度"
    YEARLY = "yearly", "每年"
    ON_CHANGE = "on_change", "按需（变更时）"


class DataResource(models.Model):
    """A data resource of the government information resource catalogue (政务信息资源目录)."""

    code = models.SlugField("资源编码", max_length=64, unique=True)
    name = models.CharField("资源名称", max_length=200)
    description = models.TextField("资源摘要", blank=True)
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="data_resources",
                              verbose_name="提供部门")
    schema = models.JSONField("数据项（JSON Schema）", default=dict,
                              help_text="一条记录的 JSON Schema（type: object，properties 为数据项）")
    sharing_type = models.CharField("共享类型", max_length=16, choices=SharingType.choices,
                                    default=SharingType.CONDITIONAL)
    sharing_conditions = models.TextField("共享条件", blank=True)
    not_shared_basis = models.TextField("不予共享依据", blank=True)
    update_frequency = models.CharField("更新周期", max_length=16, choices=UpdateFrequency.choices,
                                        default=UpdateFrequency.DAILY)
    field_sensitivity = models.JSONField("数据项敏感级别", default=dict, blank=True,
                                         help_text='{"name": "personal", "id_number": "sensitive_personal"}')
    subject_field = models.CharField("主体标识数据项", max_length=64,
                                     help_text="记录中标识主体（身份证号/统一社会信用代码）的数据项")
    endpoint_url = models.URLField("远程接口地址", blank=True,
                                   help_text="留空：由本平台的本地数据表提供；填写：通过签名请求调用部门接口")
    active = models.BooleanField("在用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "数据资源"
        verbose_name_plural = "数据资源目录"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def field_names(self) -> list[str]:
        return list((self.schema or {}).get("properties", {}).keys())

    def sensitivity_of(self, field: str) -> str:
        return self.field_sensitivity.get(field, Sensitivity.INTERNAL)

    def field_rows(self) -> list[dict[str, str]]:
        """Fields with their title, type and sensitivity, for pages."""
        labels = dict(Sensitivity.choices)
        rows = []
        for name, spec in (self.schema or {}).get("properties", {}).items():
            level = self.sensitivity_of(name)
            rows.append({"name": name, "title": spec.get("title", name), "type": spec.get("type", ""),
                         "sensitivity": level, "sensitivity_label": labels.get(level, level)})
        return rows


class Grant(models.Model):
    """Permission for a consuming department to query fields of a resource for a purpose (共享授权)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "待审核"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "已驳回"
        REVOKED = "revoked", "已撤销"
        EXPIRED = "expired", "已过期"

    resource = models.ForeignKey(DataResource, on_delete=models.PROTECT, related_name="grants",
                                 verbose_name="数据资源")
    consumer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="data_grants",
                                 verbose_name="使用部门")
    fields = models.JSONField("授权数据项", default=list)
    unmasked_fields = models.JSONField("明文数据项", default=list, blank=True,
                                       help_text="用途确需明文的个人信息数据项；其余个人信息脱敏返回")
    purpose = models.CharField("使用用途", max_length=300)
    legal_basis = models.CharField("法律依据", max_length=300)
    consent_exempt = models.BooleanField(
        "免个人授权", default=False,
        help_text="依法履行法定职责所必需、无需取得个人同意（《个人信息保护法》第十三条）",
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.REQUESTED,
                              db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name="申请人")
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    expires_at = models.DateTimeField("有效期至", null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="审核人")
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_note = models.TextField("审核意见", blank=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_reason = models.TextField("撤销原因", blank=True)
    process_instance_id = models.CharField("审核流程实例", max_length=64, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["consumer", "resource", "status"])]
        verbose_name = "共享授权"
        verbose_name_plural = "共享授权"

    def __str__(self) -> str:
        return f"{self.consumer} → {self.resource.name}（{self.get_status_display()}）"

    def is_expired(self, now=None) -> bool:
        now = now or timezone.now()
        return self.expires_at is not None and self.expires_at <= now

    def is_usable(self, now=None) -> bool:
        return self.status == self.Status.APPROVED and not self.is_expired(now)


class Consent(models.Model):
    """A person's (or company's) consent that a department fetches their data for one case (授权同意)."""

    ref = models.UUIDField("授权编号", default=uuid.uuid4, unique=True, editable=False)
    subject_id = EncryptedTextField("主体标识", max_length=32)  # encrypted at rest (docs/privacy.md)
    subject_id_hash = LookupHashField("主体标识检索码", source="subject_id", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="exchange_consents", verbose_name="授权人")
    source = models.CharField("来源", max_length=10, default="shared")
    code = models.CharField("资源/证照类型", max_length=64)
    consumer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+",
                                 verbose_name="使用部门")
    case_ref = models.CharField("办件编号", max_length=64, blank=True)
    purpose = models.CharField("用途", max_length=300)
    given_at = models.DateTimeField("授权时间", default=timezone.now)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)

    class Meta:
        ordering = ["-given_at", "-id"]
        indexes = [models.Index(fields=["subject_id_hash", "code", "consumer", "case_ref"])]
        verbose_name = "个人授权"
        verbose_name_plural = "个人授权"

    def __str__(self) -> str:
        return f"{self.subject_id} → {self.consumer}: {self.code}"

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class AccessLogEntry(models.Model):
    """One query or refusal in the tamper-evident access log (查询留痕). Append-only.

    An entry is written (committed) before any data leaves the exchange, with ``leaf_hash`` =
    SHA-256(0x00 || canonical bytes of its fields, see :func:`tongban.exchange.accesslog.entry_bytes`).
    The sequencer then gives it ``seq``, its leaf index in the RFC 6962 tree (contiguous from 0,
    assigned under a lock in commit order), like a Certificate Transparency log's merge step.
    """

    class Outcome(models.TextChoices):
        GRANTED = "granted", "已提供"
        REFUSED = "refused", "已拒绝"
        FAILED = "failed", "调取失败"

    seq = models.BigIntegerField("序号", null=True, blank=True, unique=True)
    at = models.DateTimeField("时间")
    actor = models.CharField("操作人", max_length=150, blank=True)
    consumer_org = models.CharField("使用部门", max_length=32)
    source = models.CharField("来源", max_length=10)
    resource = models.CharField("资源/证照类型", max_length=64)
    subject_id = EncryptedTextField("主体标识", max_length=32)  # encrypted; the leaf hash covers the plain value
    subject_id_hash = LookupHashField("主体标识检索码", source="subject_id", db_index=False)
    case_ref = models.CharField("办件编号", max_length=64, blank=True)
    purpose = models.CharField("用途", max_length=300, blank=True)
    fields = models.JSONField("返回数据项", default=list)
    masked_fields = models.JSONField("脱敏数据项", default=list)
    outcome = models.CharField("结果", max_length=10, choices=Outcome.choices)
    error_code = models.CharField("错误码", max_length=64, blank=True)
    grant_id = models.BigIntegerField("授权", null=True, blank=True)
    leaf_hash = models.CharField("叶哈希", max_length=64)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["subject_id_hash", "at"]), models.Index(fields=["consumer_org", "at"]),
                   models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="exchange_log_unsequenced")]
        verbose_name = "查询留痕"
        verbose_name_plural = "查询留痕"

    def __str__(self) -> str:
        return f"#{self.seq if self.seq is not None else '-'} {self.consumer_org} {self.resource} {self.outcome}"


class TreeState(models.Model):
    """Singleton: the tree's size (entries sequenced so far), its right edge and root; its row lock
    serialises the sequencer."""

    size = models.BigIntegerField(default=0)
    frontier = models.JSONField(default=list)
    root_hash = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "默克尔树状态"

    def __str__(self) -> str:
        return f"tree size {self.size}"


class MerkleNode(models.Model):
    """Hash of the perfect subtree ``(level, index)`` = leaves [index·2^level, (index+1)·2^level).

    Written by the sequencer (not on every append); level 0 holds the leaves as they were sequenced,
    so an entry altered later is named by ``verify-log``.
    """

    level = models.SmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="uniq_merkle_node")]
        verbose_name = "默克尔树节点"

    def __str__(self) -> str:
        return f"node ({self.level}, {self.index})"


class SignedTreeHead(models.Model):
    """A signed tree head (STH): the log's size and root hash at a time, signed with Ed25519."""

    tree_size = models.BigIntegerField("树大小")
    root_hash = models.CharField("根哈希", max_length=64)
    timestamp = models.DateTimeField("签署时间")
    signature = models.CharField("签名（base64url）", max_length=200)
    key_id = models.CharField("密钥标识", max_length=64)

    class Meta:
        ordering = ["-tree_size", "-id"]
        verbose_name = "签名树头"
        verbose_name_plural = "签名树头"

    def __str__(self) -> str:
        return f"STH size={self.tree_size} root={self.root_hash[:12]}…"


class ProviderRecord(models.Model):
    """A record of a local demo register (户籍, 市场主体, 社保参保, 不动产登记, 出生医学证明)."""

    resource = models.ForeignKey(DataResource, on_delete=models.CASCADE, related_name="records")
    subject_id = EncryptedTextField("主体标识", max_length=32)  # encrypted at rest (docs/privacy.md)
    subject_id_hash = LookupHashField("主体标识检索码", source="subject_id", db_index=False)
    data = EncryptedJSONField("数据")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["resource", "subject_id_hash"], name="uniq_provider_record")]
        verbose_name = "本地数据记录"
        verbose_name_plural = "本地数据记录"

    def __str__(self) -> str:
        return f"{self.resource.code}:{self.subject_id}"


class ExchangeClient(models.Model):
    """A consuming system (业务系统) that calls the exchange API with the ``X-Tongban-Client`` key."""

    name = models.CharField("系统名称", max_length=100)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="exchange_clients",
                                     verbose_name="所属部门")
    key_prefix = models.CharField("密钥前缀", max_length=16, unique=True)
    key_hash = models.CharField("密钥哈希", max_length=64)
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "接入系统"
        verbose_name_plural = "接入系统"

    def __str__(self) -> str:
        return f"{self.name}（{self.organisation}）"
