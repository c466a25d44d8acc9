"""Service catalogue (政务服务事项) and power/responsibility lists (权力清单/责任清单).

Item hierarchy: main item (主项) → sub-item (子项) → handling item (业务办理项: 新设/变更/延续/注销).
Situations (办理情形) pick the materials (申请材料) an applicant must provide.
"""

from __future__ import annotations

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from simple_history.models import HistoricalRecords

from tongban.core.models import Organisation

from .errors import FrozenListError


def chinese_labels(choices: type[models.Choices]) -> dict[str, str]:
    """Value → Chinese label of a choices class, whatever language is active.

    Choice labels are translated on pages (``gettext_lazy``, the Chinese text is the msgid); files, spreadsheets
    and stored reasons use the Chinese labels, which this returns as plain strings.
    """
    with translation.override(None):  # no catalogue: every msgid stays itself (Chinese)
        return {str(value): str(label) for value, label in choices.choices}


class ItemType(models.TextChoices):
    LICENSING = "licensing", _("行政许可")
    CONFIRMATION = "confirmation", _("行政确认")
    ADJUDICATION = "adjudication", _("行政裁决")
    PAYMENT = "payment", _("行政给付")
    REWARD = "reward", _("行政奖励")
    FILING = "filing", _("行政备案")
    OTHER_POWER = "other_power", _("其他行政权力")
    PUBLIC_SERVICE = "public_service", _("公共服务")


class ExerciseLevel(models.TextChoices):
    NATIONAL = "national", _("国家级")
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    COUNTY = "county", _("县级")
    TOWNSHIP = "township", _("乡镇（街道）级")
    VILLAGE = "village", _("村（社区）级")


class OnlineLevel(models.TextChoices):
    FULLY_ONLINE = "fully_online", _("全程网办")
    AT_MOST_ONCE = "at_most_once", _("最多跑一次")
    ONSITE = "onsite", _("现场办理")


class ItemStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已停用")


class ServiceItem(models.Model):
    """A government service item (政务服务事项) with the national standard guide elements."""

    class Node(models.TextChoices):
        MAIN = "main", _("主项")
        SUB = "sub", _("子项")
        HANDLING = "handling", _("业务办理项")

    class HandlingKind(models.TextChoices):
        NONE = "", "—"
        NEW = "new", _("新设")
        CHANGE = "change", _("变更")
        RENEW = "renew", _("延续")
        CANCEL = "cancel", _("注销")

    code = models.CharField("事项编码", max_length=64, unique=True)
    name = models.CharField("事项名称", max_length=200)
    item_type = models.CharField("事项类型", max_length=20, choices=ItemType.choices)
    node = models.CharField("层级", max_length=10, choices=Node.choices, default=Node.MAIN)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name="上级事项")
    handling_kind = models.CharField("办理项类型", max_length=10, choices=HandlingKind.choices, blank=True,
                                     default=HandlingKind.NONE)
    competent_department = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="competent_items",
                                             verbose_name="主管部门")
    implementing_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="implemented_items",
                                         verbose_name="实施主体")
    reviewing_org = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="reviewed_items",
        verbose_name="审查决定机构",
        help_text="下沉事项: the organisation whose approvers review and decide it, when not the implementing "
                  "organisation (实施主体) itself, e.g. a township item accepted locally and decided by a department.")
    exercise_level = models.CharField("行使层级", max_length=10, choices=ExerciseLevel.choices)
    legal_basis = models.JSONField("设定依据", default=list, blank=True,
                                   help_text='[{"law": "法律名称", "article": "第X条", "text": "条文"}]')
    statutory_limit_days = models.PositiveIntegerField("法定办结时限（工作日）", null=True, blank=True)
    promised_limit_days = models.PositiveIntegerField("承诺办结时限（工作日）", null=True, blank=True)
    onsite_visits = models.PositiveSmallIntegerField("到办事现场次数", default=0)
    fee_required = models.BooleanField("是否收费", default=False)
    fees = models.JSONField("收费项目", default=list, blank=True,
                            help_text='[{"name": "项目", "standard": "标准", "basis": "依据"}]')
    conditions = models.TextField("受理条件", blank=True)
    process_steps = models.JSONField(
        "办理流程", default=list, blank=True,
        help_text='[{"name": "受理", "days": 1, "excluded": false, "note": ""}] excluded = 特殊环节，不计入时限',
    )
    online_level = models.CharField("网办深度", max_length=20, choices=OnlineLevel.choices,
                                    default=OnlineLevel.AT_MOST_ONCE)
    commitment_allowed = models.BooleanField("可告知承诺", default=False)
    service_object = models.CharField("服务对象", max_length=40, blank=True,
                                      help_text="自然人 / 法人 / 自然人,法人")
    result_name = models.CharField("审批结果名称", max_length=200, blank=True)
    result_type = models.CharField("审批结果类型", max_length=40, blank=True)
    handling_place = models.CharField("办理地点", max_length=300, blank=True)
    handling_hours = models.CharField("办理时间", max_length=200, blank=True)
    consultation = models.CharField("咨询方式", max_length=300, blank=True)
    complaint = models.CharField("监督投诉方式", max_length=300, blank=True)
    form_schema = models.JSONField("申请表 JSON Schema", null=True, blank=True)
    guide = models.JSONField(
        "情形引导问题", default=dict, blank=True,
        help_text='每个引导键（情形 conditions 的键）的问题和答案文字，例如 {"married": {"question": "父母是否已办理结婚登记？", '
                  '"answers": {"是": "已办理结婚登记", "否": "未办理"}}}')
    result_licence_type = models.CharField(
        "结果电子证照类型", max_length=64, blank=True,
        help_text="The e-licence type issued when the item is approved, e.g. business_licence.")
    result_mapping = models.JSONField(
        "证照数据映射", default=dict, blank=True,
        help_text='licence field → form field, or "=applicant_name" / "=applicant_id_number" / "=today" / '
                  '"=new_credit_code" / "=department_name", e.g. {"name": "enterprise_name"}')
    supervising_department = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="supervised_items",
        verbose_name="监管部门", help_text="审管联动: the department that receives this item's approval results "
                                           "(the competent department when empty).")
    post_approval_check = models.CharField(
        "后续监管措施", max_length=300, blank=True,
        help_text="What follows an approval, e.g. 纳入双随机抽查 / 告知承诺事后核查 / 现场核查.")
    auto_decision_key = models.CharField(
        "秒批决策表", max_length=100, blank=True,
        help_text="秒批 (approval by rules): the DMN decision (deployed on the workflow engine) that decides this item; "
                  "its output `outcome` is approve or refer. Empty: a person reviews every application.")
    auto_decision_inputs = models.JSONField(
        "秒批输入", default=dict, blank=True,
        help_text='decision input → where it comes from: "form.FIELD", "evidence.MATERIAL_CODE.FIELD", '
                  '"applicant.kind" / "applicant.age", "commitment", "fact.NAME" (e.g. fact.credit_grade), '
                  'e.g. {"age": "applicant.age", "household_address": "evidence.household.household_address"}')
    status = models.CharField("状态", max_length=10, choices=ItemStatus.choices, default=ItemStatus.PUBLISHED)
    version = models.PositiveIntegerField("版本", default=1)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        # item_type first: a leading low-selectivity "status" column made SQLite prefer the index over a table scan
        # for every search (published is most rows), which is 2x slower.
        indexes = [models.Index(fields=["item_type", "status"]), models.Index(fields=["exercise_level"])]
        verbose_name = "政务服务事项"
        verbose_name_plural = "政务服务事项"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def excluded_steps(self) -> list[str]:
        """Names of the special steps (特殊环节) that do not count toward the time limit."""
        return [s.get("name", "") for s in self.process_steps if s.get("excluded")]


class Material(models.Model):
    """An application material (申请材料) of an item."""

    class Form(models.TextChoices):
        ORIGINAL = "original", _("原件")
        COPY = "copy", _("复印件")
        ORIGINAL_AND_COPY = "original_and_copy", _("原件和复印件")
        ELECTRONIC = "electronic", _("电子件")

    class Requirement(models.TextChoices):
        REQUIRED = "required", _("必要（核心材料）")
        TOLERABLE = "tolerable", _("容缺（可后补）")
        OPTIONAL = "optional", _("非必要")

    class Source(models.TextChoices):
        APPLICANT = "applicant", _("申请人自备")
        ISSUED = "issued", _("部门核发（电子证照）")
        SHARED = "shared", _("共享数据")

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="materials")
    code = models.CharField("材料编码", max_length=64)
    name = models.CharField("材料名称", max_length=200)
    form = models.CharField("材料形式", max_length=20, choices=Form.choices, default=Form.ORIGINAL)
    copies = models.PositiveSmallIntegerField("份数", default=1)
    requirement = models.CharField("必要性", max_length=10, choices=Requirement.choices,
                                   default=Requirement.REQUIRED)
    source = models.CharField("来源渠道", max_length=10, choices=Source.choices, default=Source.APPLICANT)
    issuing_department = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="+", verbose_name="出具部门")
    licence_type = models.CharField("电子证照类型", max_length=64, blank=True)
    data_resource = models.CharField("共享数据资源", max_length=64, blank=True)
    waivable = models.BooleanField("可免提交", default=False)
    commitment_replaceable = models.BooleanField("可告知承诺替代", default=False)
    notes = models.TextField("填报须知", blank=True)
    order = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        ordering = ["item", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "code"], name="uniq_material_per_item")]
        verbose_name = "申请材料"
        verbose_name_plural = "申请材料"

    def __str__(self) -> str:
        return self.name


class Situation(models.Model):
    """A handling situation (办理情形): which materials apply in a given case."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="situations")
    code = models.CharField("情形编码", max_length=64)
    name = models.CharField("情形名称", max_length=200)
    description = models.TextField("说明", blank=True)
    conditions = models.JSONField("引导条件", default=dict, blank=True,
                                  help_text='情形引导问题的答案，例如 {"applicant_kind": "法人"}')
    materials = models.ManyToManyField(Material, related_name="situations", blank=True)
    order = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        ordering = ["item", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "code"], name="uniq_situation_per_item")]
        verbose_name = "办理情形"
        verbose_name_plural = "办理情形"

    def __str__(self) -> str:
        return self.name


class Bundle(models.Model):
    """A one-thing bundle (一件事): several items across departments handled as one."""

    code = models.CharField("一件事编码", max_length=64, unique=True)
    name = models.CharField("名称", max_length=200)
    description = models.TextField("说明", blank=True)
    lead_department = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+", verbose_name="牵头部门")
    items = models.ManyToManyField(ServiceItem, through="BundleItem", related_name="bundles")
    promised_limit_days = models.PositiveIntegerField("承诺办结时限（工作日）", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=ItemStatus.choices, default=ItemStatus.PUBLISHED)

    class Meta:
        ordering = ["code"]
        verbose_name = "一件事"
        verbose_name_plural = "一件事"

    def __str__(self) -> str:
        return self.name


class BundleItem(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="bundle_items")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField(default=0)
    optional = models.BooleanField("可选", default=False)

    class Meta:
        ordering = ["bundle", "order"]
        constraints = [models.UniqueConstraint(fields=["bundle", "item"], name="uniq_bundle_item")]

    def __str__(self) -> str:
        return f"{self.bundle_id}:{self.item_id}"


# --- Power and responsibility lists (权责清单) -------------------------------------------------


class DutyList(models.Model):
    """One version of an organisation's power and responsibility list (权力清单/责任清单).

    Versions are numbered per organisation; a published version takes effect on ``effective_date``
    and stays current until a later published version takes effect. Published versions are frozen.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="duty_lists")
    version = models.PositiveIntegerField("版本号")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    effective_date = models.DateField("生效日期", null=True, blank=True)
    change_reason = models.TextField("调整原因", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation", "-version"]
        constraints = [models.UniqueConstraint(fields=["organisation", "version"], name="uniq_dutylist_version")]
        indexes = [models.Index(fields=["organisation", "status", "effective_date"])]
        verbose_name = "权责清单版本"
        verbose_name_plural = "权责清单版本"

    def __str__(self) -> str:
        return f"{self.organisation} 权责清单 v{self.version}（{self.get_status_display()}）"

    @property
    def is_frozen(self) -> bool:
        """Published versions are frozen: their entries can no longer be edited."""
        return self.status == self.Status.PUBLISHED


def ensure_draft(duty_list: DutyList) -> None:
    """Refuse to change a published (frozen) version."""
    if duty_list.is_frozen:
        raise FrozenListError(
            f"{duty_list.organisation.code} 权责清单 v{duty_list.version} 已发布，已发布的版本不可修改；"
            "请先创建新的草稿版本再修改。"
        )


class _ListEntry(models.Model):
    """Common behaviour of list entries: entries of a published version cannot be saved or deleted."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        ensure_draft(self.duty_list)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        ensure_draft(self.duty_list)
        return super().delete(*args, **kwargs)


# The verbose names of list entries are the field labels of the list diff (selectors.diff_duty_lists): marked with
# gettext_noop so they stay plain Chinese strings in data (JSON diff, files) and are translated where a page shows
# them (``{% translate f.label %}``).


class PowerEntry(_ListEntry):
    """A power (职权) on the power list: what the organisation may do and on which basis."""

    duty_list = models.ForeignKey(DutyList, on_delete=models.CASCADE, related_name="powers")
    code = models.CharField(gettext_noop("职权编码"), max_length=64)
    name = models.CharField(gettext_noop("职权名称"), max_length=200)
    power_type = models.CharField(gettext_noop("职权类型"), max_length=20, choices=ItemType.choices)
    basis = models.TextField(gettext_noop("实施依据"))
    responsible_org = models.CharField(gettext_noop("实施主体"), max_length=200)
    item_code = models.CharField(gettext_noop("对应事项编码"), max_length=64, blank=True)
    notes = models.TextField(gettext_noop("备注"), blank=True)
    order = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["duty_list", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["duty_list", "code"], name="uniq_power_code")]
        verbose_name = "权力事项"
        verbose_name_plural = "权力事项"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ResponsibilityEntry(_ListEntry):
    """A responsibility (责任事项) attached to a power: what the organisation must do, and accountability."""

    duty_list = models.ForeignKey(DutyList, on_delete=models.CASCADE, related_name="responsibilities")
    power_code = models.CharField(gettext_noop("对应职权编码"), max_length=64)
    code = models.CharField(gettext_noop("责任编码"), max_length=64)
    responsibilities = models.TextField(gettext_noop("责任事项"))
    accountability = models.TextField(gettext_noop("追责情形"))
    basis = models.TextField(gettext_noop("责任依据"), blank=True)
    order = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["duty_list", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["duty_list", "code"], name="uniq_responsibility_code")]
        verbose_name = "责任事项"
        verbose_name_plural = "责任事项"

    def __str__(self) -> str:
        return f"{self.code} {self.responsibilities[:30]}"
