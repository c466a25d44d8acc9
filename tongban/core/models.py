"""Core: administrative divisions, organisations, users, roles scoped to organisations, audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models

from .pii import EncryptedTextField, LookupHashField


class Division(models.Model):
    """An administrative division (行政区划): province → city → county → township → village/community."""

    class Level(models.TextChoices):
        PROVINCE = "province", "省级"
        CITY = "city", "市级"
        COUNTY = "county", "县级"
        TOWNSHIP = "township", "乡镇级"
        VILLAGE = "village", "村（社区）级"

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=16, choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        ordering = ["code"]
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Organisation(models.Model):
    """A department (部门), service centre (政务服务中心/便民服务中心), window (窗口) or other body."""

    class Kind(models.TextChoices):
        GOVERNMENT = "government", "人民政府"
        DEPARTMENT = "department", "部门"
        SERVICE_CENTRE = "service_centre", "政务服务中心"
        WINDOW = "window", "窗口"
        OTHER = "other", "其他单位"

    code = models.CharField("机构代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=200)
    short_name = models.CharField("简称", max_length=60, blank=True)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices, default=Kind.DEPARTMENT)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="organisations")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("电话", max_length=40, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "机构"
        verbose_name_plural = "机构"

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A role a user can hold within an organisation."""

    APPLICANT = "applicant"
    WINDOW_CLERK = "window_clerk"
    APPROVER = "approver"
    SUPERVISOR = "supervisor"
    ADMINISTRATOR = "administrator"
    DATA_OWNER = "data_owner"
    EVALUATOR = "evaluator"
    SECURITY_ADMIN = "security_admin"
    HOTLINE_OPERATOR = "hotline_operator"
    DISCIPLINE = "discipline"
    ENFORCEMENT_OFFICER = "enforcement_officer"
    LEGAL_REVIEWER = "legal_reviewer"
    ENFORCEMENT_HEAD = "enforcement_head"

    code = models.CharField("角色代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    description = models.TextField("说明", blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "角色"
        verbose_name_plural = "角色"

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A platform user: citizen, business representative or staff."""

    class Kind(models.TextChoices):
        NATURAL_PERSON = "natural", "自然人"
        LEGAL_PERSON = "legal", "法人"
        STAFF = "staff", "工作人员"

    kind = models.CharField("用户类型", max_length=10, choices=Kind.choices, default=Kind.NATURAL_PERSON)
    display_name = models.CharField("姓名/名称", max_length=100, blank=True)
    id_number = EncryptedTextField("证件号码", max_length=32, blank=True)  # encrypted at rest (docs/privacy.md)
    id_number_hash = LookupHashField("证件号码检索码", source="id_number")  # find a user: pii.matching("id_number", …)
    phone = EncryptedTextField("手机号", max_length=20, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff",
        verbose_name="所属机构",
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username


class RoleAssignment(models.Model):
    """User U holds role R within organisation O (and, if ``include_children``, its sub-organisations)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="role_assignments")
    include_children = models.BooleanField("含下级机构", default=False)
    valid_from = models.DateField("生效日期", null=True, blank=True)
    valid_until = models.DateField("失效日期", null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role", "organisation"], name="uniq_role_assignment")]
        indexes = [models.Index(fields=["role", "organisation"])]
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"

    def __str__(self) -> str:
        return f"{self.user} · {self.role} @ {self.organisation}"


class AuditLog(models.Model):
    """Append-only record of who did what to which object, when and why."""

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    action = models.CharField("动作", max_length=60)
    object_type = models.CharField("对象类型", max_length=60, blank=True)
    object_id = models.CharField("对象标识", max_length=64, blank=True)
    reason = models.TextField("原因", blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"


class CalendarDay(models.Model):
    """A local override of the national working-day calendar (地方调整): a day that is, or is not, a working day.

    With ``division`` empty the override applies everywhere; otherwise only to that division and below.
    Also used to extend the calendar beyond the years the national package knows.
    """

    date = models.DateField("日期")
    is_workday = models.BooleanField("是否工作日")
    division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.CASCADE)
    note = models.CharField("说明", max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["date", "division"], name="uniq_calendar_day")]
        verbose_name = "工作日历调整"
        verbose_name_plural = "工作日历调整"

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.note}"


class SiteConfiguration(models.Model):
    """The city this installation serves (站点配置): names, codes, numbering, centre, hotline and look.

    One row (``pk=1``), edited in the admin (站点配置) or with ``tongban site set``; read through
    ``tongban.core.site.current()``, which falls back to neutral defaults while the row does not exist. The public
    URL and the time zone are process settings instead (``TONGBAN_PUBLIC_URL``, ``TONGBAN_TIME_ZONE``).
    """

    city_name = models.CharField("城市名称", max_length=60, default="本市",
                                 help_text="例如：某某市。出现在页面标题、文书和证照上。")
    platform_name = models.CharField("平台名称", max_length=60, default="一网通办",
                                     help_text="例如：某某市一网通办。页面标题和页眉显示。")
    division_code = models.CharField(
        "行政区划代码", max_length=6, default="000000",
        validators=[RegexValidator(r"^\d{6}$", "行政区划代码须为6位数字")],
        help_text="本级行政区划代码前6位，用于投资项目代码、统一社会信用代码等。")
    reference_prefix = models.CharField(
        "办件编号前缀", max_length=8, default="TB", blank=True,
        validators=[RegexValidator(r"^[A-Z0-9]*$", "办件编号前缀只能包含大写字母和数字")])
    reference_format = models.CharField(
        "办件编号格式", max_length=60, default="{prefix}{date:%Y%m%d}{seq:06d}",
        validators=[RegexValidator(r"\{seq:0[1-9]d\}$", "办件编号格式须以流水号 {seq:0Nd} 结尾")],
        help_text="{prefix} 前缀，{date:…} 受理日期（strftime 格式），{division} 区划代码，末尾 {seq:0Nd} 为N位流水号。")
    service_centre = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="牵头政务服务中心", help_text="综合受理、出具告知文书的政务服务中心。")
    operator = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="平台运营机构", help_text="政务服务管理机构：页脚署名、电子档案来源机构。")
    hotline = models.CharField("政务服务便民热线", max_length=20, default="12345")
    logo = models.CharField(
        "标志图片", max_length=200, blank=True,
        validators=[RegexValidator(r"^/[^/]", "标志图片须为本站路径（以 / 开头），不引用外部网站")],
        help_text="本站路径，例如 /static/site/logo.svg（留空：只显示文字）。")
    accent_colour = models.CharField(
        "主题色", max_length=7, default="#b3261e",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "主题色须为 #RRGGBB")])
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "站点配置"
        verbose_name_plural = "站点配置"

    def __str__(self) -> str:
        return self.platform_name
