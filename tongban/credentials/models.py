"""Credentials (电子证照 / 电子印章 / 电子档案): licence types, issued e-licences, status lists, seal keys,
credential events and archive records.

Private keys are never stored here: a :class:`SealKey` row holds the public half (and the seal certificate);
the private half lives in a 0600 file under ``settings.KEYS_DIR/credentials`` (see ``keys.py``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from tongban.core.models import Organisation
from tongban.core.pii import EncryptedJSONField, EncryptedTextField, LookupHashField


class LicenceType(models.Model):
    """A licence type (电子证照类型) with the JSON Schema of its structured data and its validity rule."""

    class HolderKind(models.TextChoices):
        NATURAL = "natural", "自然人"
        LEGAL = "legal", "法人"
        ANY = "any", "自然人或法人"

    code = models.CharField("证照类型代码", max_length=64, unique=True)
    name = models.CharField("证照名称", max_length=200)
    vc_type = models.CharField("VC 类型", max_length=80, help_text="e.g. BusinessLicenceCredential")
    number_prefix = models.CharField("证照编号前缀", max_length=16)
    holder_kind = models.CharField("持证主体类型", max_length=10, choices=HolderKind.choices, default=HolderKind.ANY)
    schema = models.JSONField("数据 JSON Schema", default=dict)
    field_labels = models.JSONField("字段中文名", default=dict, blank=True)
    holder_fields = models.JSONField(
        "由持证主体自动填写的字段", default=dict, blank=True,
        help_text='{"field": "name" | "id_number"}: filled from the holder when the data leaves them out',
    )
    validity_years = models.PositiveSmallIntegerField("有效期（年）", null=True, blank=True,
                                                      help_text="empty = 长期有效")
    issuing_org = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name="默认发证机关")
    description = models.TextField("说明", blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "电子证照类型"
        verbose_name_plural = "电子证照类型"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class StatusList(models.Model):
    """A W3C Bitstring Status List (one per issuer organisation, purpose and sequence number)."""

    class Purpose(models.TextChoices):
        REVOCATION = "revocation", "撤销"
        SUSPENSION = "suspension", "暂停"

    SIZE = 131_072  # bits: the W3C minimum (16 KiB), for herd privacy

    id = models.CharField("列表标识", max_length=80, primary_key=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField("用途", max_length=12, choices=Purpose.choices)
    sequence = models.PositiveIntegerField("序号", default=1)
    bitstring = models.BinaryField("位串", editable=False)
    next_index = models.PositiveIntegerField("下一个可分配位置", default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["organisation", "purpose", "sequence"]
        constraints = [models.UniqueConstraint(fields=["organisation", "purpose", "sequence"],
                                               name="uniq_status_list")]
        verbose_name = "状态列表"
        verbose_name_plural = "状态列表"

    def __str__(self) -> str:
        return self.id


class Credential(models.Model):
    """An issued e-licence (电子证照): structured data, sealed PDF, VC (JWS) and its status."""

    class Status(models.TextChoices):
        ACTIVE = "active", "有效"
        SUSPENDED = "suspended", "暂停"
        REVOKED = "revoked", "已撤销"

    class HolderKind(models.TextChoices):
        NATURAL = "natural", "自然人"
        LEGAL = "legal", "法人"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    licence_number = models.CharField("证照编号", max_length=64, unique=True)
    licence_type = models.ForeignKey(LicenceType, on_delete=models.PROTECT, related_name="credentials",
                                     verbose_name="证照类型")
    holder_kind = models.CharField("持证主体类型", max_length=10, choices=HolderKind.choices)
    holder_name = models.CharField("持证主体", max_length=200)
    holder_id_number = EncryptedTextField("证件号码/统一社会信用代码", max_length=32)  # docs/privacy.md
    holder_id_number_hash = LookupHashField("证件号码检索码", source="holder_id_number")
    holder_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="credentials", verbose_name="持证用户")
    issuer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="issued_credentials",
                               verbose_name="发证机关")
    data = EncryptedJSONField("证照数据", default=dict)
    issued_at = models.DateTimeField("签发时间")
    valid_from = models.DateField("有效期自")
    valid_until = models.DateField("有效期至", null=True, blank=True, help_text="empty = 长期有效")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField("状态变更原因", blank=True)
    status_changed_at = models.DateTimeField("状态变更时间", null=True, blank=True)
    revocation_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="+", null=True)
    suspension_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="+", null=True)
    status_list_index = models.PositiveIntegerField("状态列表位置", null=True)
    application_ref = models.CharField("办件编号", max_length=64, blank=True, db_index=True)
    item_code = models.CharField("事项编码", max_length=64, blank=True)
    pdf_path = models.CharField("PDF 文件", max_length=300, blank=True, help_text="relative to MEDIA_ROOT")
    pdf_sha256 = models.CharField("PDF SHA-256", max_length=64, blank=True)
    vc_jws = EncryptedTextField("可验证凭证（JWS）", blank=True)  # its payload names the holder
    vc_kid = models.CharField("VC 签名密钥", max_length=100, blank=True)
    sm2_signature = models.CharField("SM2 签名（国密）", max_length=256, blank=True)
    sm2_kid = models.CharField("SM2 密钥", max_length=100, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["licence_type", "holder_id_number_hash", "status"]),
                   models.Index(fields=["issuer", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["revocation_list", "status_list_index"], name="uniq_status_index"),
        ]
        verbose_name = "电子证照"
        verbose_name_plural = "电子证照"

    def __str__(self) -> str:
        return f"{self.licence_type.name} {self.licence_number}"


class LicenceCounter(models.Model):
    """The last licence number given per licence type, issuer and year (locked while numbering)."""

    licence_type = models.ForeignKey(LicenceType, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["licence_type", "organisation", "year"],
                                               name="uniq_licence_counter")]

    def __str__(self) -> str:
        return f"{self.licence_type_id}/{self.organisation_id}/{self.year}: {self.last}"


class SealKey(models.Model):
    """An organisation's signing key (电子印章密钥). The private key is a file under KEYS_DIR, never here."""

    class Algorithm(models.TextChoices):
        ED25519 = "Ed25519", "Ed25519（VC/JWS）"
        P256 = "ECDSA-P256", "ECDSA P-256（PAdES 印章证书）"
        SM2 = "SM2", "SM2/SM3（国密）"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="seal_keys",
                                     verbose_name="机构")
    kid = models.CharField("密钥标识", max_length=100, unique=True)
    algorithm = models.CharField("算法", max_length=12, choices=Algorithm.choices)
    public_key_pem = models.TextField("公钥 PEM")
    certificate_pem = models.TextField("印章证书 PEM", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    retired_at = models.DateTimeField("停用时间", null=True, blank=True,
                                      help_text="retired keys no longer sign but still verify")

    class Meta:
        ordering = ["organisation", "algorithm", "created_at"]
        verbose_name = "电子印章密钥"
        verbose_name_plural = "电子印章密钥"

    def __str__(self) -> str:
        return self.kid

    @property
    def active(self) -> bool:
        return self.retired_at is None


class CredentialEvent(models.Model):
    """What happened to a credential: issued, suspended, reinstated, revoked, verified (who, when, why)."""

    class Kind(models.TextChoices):
        ISSUED = "issued", "签发"
        SUSPENDED = "suspended", "暂停"
        REINSTATED = "reinstated", "恢复"
        REVOKED = "revoked", "撤销"
        VERIFIED = "verified", "核验"

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("事件", max_length=12, choices=Kind.choices)
    at = models.DateTimeField("时间", auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    reason = models.TextField("原因", blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "证照事件"
        verbose_name_plural = "证照事件"

    def __str__(self) -> str:
        return f"{self.credential_id} {self.kind}"


class ArchiveRecord(models.Model):
    """An e-archive (电子档案) of a closed case: a BagIt bag on disk with its retention date."""

    application_ref = models.CharField("办件编号", max_length=64, unique=True)
    path = models.CharField("档案位置", max_length=500)
    item_codes = models.JSONField("事项编码", default=list, blank=True)
    file_count = models.PositiveIntegerField("文件数", default=0)
    payload_oxum = models.CharField("Payload-Oxum", max_length=40, blank=True)
    retention_until = models.DateField("保管期限至")
    created_at = models.DateTimeField("归档时间", auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "电子档案"
        verbose_name_plural = "电子档案"

    def __str__(self) -> str:
        return self.application_ref
