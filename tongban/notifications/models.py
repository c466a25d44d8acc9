"""Messages to people (我的消息) and the log of their delivery on each channel; each person's channel choices.

A :class:`Message` is what one person is told about one event (受理, 一次性告知, 补正到期, 办结, 证照发放, 评价邀请,
事后核查): it is the in-site message itself (always delivered) and the head of the log; one :class:`Delivery` row per
channel records whether, when and after how many attempts it went out by e-mail or SMS (addresses encrypted at
rest, docs/privacy.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tongban.core.pii import EncryptedTextField


class Message(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_messages",
                                  verbose_name="收件人")
    event = models.CharField("事件", max_length=60)
    subject = models.CharField("标题", max_length=200)
    body = models.TextField("内容")
    short_text = models.CharField("短信文本", max_length=300, blank=True)  # the SMS version of the message
    link = models.CharField("链接", max_length=300, blank=True)  # a path of this site, e.g. /my/<ref>/
    ref = models.CharField("相关编号", max_length=80, blank=True)  # the application, licence, service ...
    # The same fact is told once: e.g. "supplement-due:<ref>:<deadline>" for a daily reminder job.
    dedupe_key = models.CharField("去重键", max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="ntf_msg_recipient_read"),
                   models.Index(fields=["recipient", "-created_at"], name="ntf_msg_recipient_time")]
        verbose_name = "消息"
        verbose_name_plural = "消息"

    def __str__(self) -> str:
        return self.subject


class Delivery(models.Model):
    """One message on one channel: the delivery log (站内消息 is delivered when the message is written)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"
        SKIPPED = "skipped", "未发送"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField("渠道", max_length=20)
    address = EncryptedTextField("地址", max_length=200, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    last_error = models.TextField("最近错误", blank=True)
    provider_id = models.CharField("回执编号", max_length=120, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["message", "channel"], name="ntf_one_delivery_per_channel")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="ntf_delivery_due")]
        verbose_name = "发送记录"
        verbose_name_plural = "发送记录"

    def __str__(self) -> str:
        return f"{self.channel} {self.get_status_display()}"


class Preference(models.Model):
    """The channels a person wants besides 站内消息 (always on). No row: the defaults of the deployment
    (``TONGBAN_NOTIFY_DEFAULT_CHANNELS``)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference")
    channels = models.JSONField("接收渠道", default=list, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "消息接收设置"
        verbose_name_plural = "消息接收设置"

    def __str__(self) -> str:
        return f"{self.user}: {', '.join(self.channels) or '仅站内消息'}"
