"""Back office (Django admin) for the catalogue: items with materials and situations, bundles, duty lists.

Changes go through simple_history (who/when/why) and the audit log; publishing goes through ``services``.
Published duty list versions are read-only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from tongban.core.services import audit

from . import services
from .errors import CatalogError
from .models import (
    Bundle,
    BundleItem,
    DutyList,
    ItemStatus,
    Material,
    PowerEntry,
    ResponsibilityEntry,
    ServiceItem,
    Situation,
)


class MaterialInline(admin.TabularInline):
    model = Material
    extra = 0
    fields = ("order", "code", "name", "form", "copies", "requirement", "source", "issuing_department",
              "licence_type", "data_resource", "waivable", "commitment_replaceable", "notes")


class SituationInline(admin.StackedInline):
    model = Situation
    extra = 0
    fields = (("order", "code", "name"), "description", "conditions", "materials")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "materials":
            item_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = Material.objects.filter(item_id=item_id) if item_id else Material.objects.none()
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(ServiceItem)
class ServiceItemAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "item_type", "competent_department", "exercise_level", "online_level", "status",
                    "version")
    list_filter = ("status", "item_type", "exercise_level", "online_level", "competent_department")
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    readonly_fields = ("version", "updated_at")
    inlines = [MaterialInline, SituationInline]
    actions = ["publish", "retire"]
    fieldsets = (
        ("事项", {"fields": ("code", "name", "item_type", ("node", "parent", "handling_kind"), "status", "version",
                           "updated_at")}),
        ("实施", {"fields": ("competent_department", "implementing_org", "reviewing_org", "exercise_level", "service_object")}),
        ("依据与条件", {"fields": ("legal_basis", "conditions")}),
        ("时限与流程", {"fields": (("statutory_limit_days", "promised_limit_days", "onsite_visits"), "process_steps",
                              "online_level", "commitment_allowed")}),
        ("收费", {"fields": ("fee_required", "fees")}),
        ("办理信息", {"fields": ("result_name", "result_type", "handling_place", "handling_hours", "consultation",
                             "complaint")}),
        ("情形引导", {"fields": ("guide",)}),
        ("申请表", {"fields": ("form_schema",), "classes": ("collapse",)}),
    )

    def save_model(self, request: HttpRequest, obj: ServiceItem, form: Any, change: bool) -> None:
        request._catalog_bumped = False  # type: ignore[attr-defined]
        if change and form.has_changed() and ItemStatus.PUBLISHED in (obj.status, form.initial.get("status")):
            obj.version += 1
            request._catalog_bumped = True  # type: ignore[attr-defined]
        obj._change_reason = "后台编辑"  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        related_changed = any(fs.has_changed() for fs in formsets)
        if change and related_changed and not getattr(request, "_catalog_bumped", False) \
                and obj.status == ItemStatus.PUBLISHED:
            obj.version += 1
            obj._change_reason = "后台编辑申请材料/办理情形"
            obj.save(update_fields=["version", "updated_at"])
        if not change or form.has_changed() or related_changed:
            audit("catalog.item.updated" if change else "catalog.item.created", actor=request.user, obj=obj,
                  reason="后台编辑", detail={"code": obj.code, "version": obj.version})

    @admin.action(description="发布所选事项")
    def publish(self, request: HttpRequest, queryset: QuerySet[ServiceItem]) -> None:
        for item in queryset:
            services.publish_item(item, actor=request.user, reason="后台发布")
        self.message_user(request, f"已发布 {queryset.count()} 个事项", messages.SUCCESS)

    @admin.action(description="停用所选事项")
    def retire(self, request: HttpRequest, queryset: QuerySet[ServiceItem]) -> None:
        for item in queryset:
            services.retire_item(item, actor=request.user, reason="后台停用")
        self.message_user(request, f"已停用 {queryset.count()} 个事项", messages.SUCCESS)


class BundleItemInline(admin.TabularInline):
    model = BundleItem
    extra = 0
    autocomplete_fields = ("item",)
    fields = ("order", "item", "optional")


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "lead_department", "promised_limit_days", "status")
    list_filter = ("status",)
    search_fields = ("code", "name")
    inlines = [BundleItemInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        audit("catalog.bundle.updated" if change else "catalog.bundle.created", actor=request.user,
              obj=form.instance, reason="后台编辑", detail={"code": form.instance.code})


class _EntryInline(admin.TabularInline):
    extra = 0

    def _frozen(self, obj: DutyList | None) -> bool:
        return obj is not None and obj.is_frozen

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._frozen(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._frozen(obj) and super().has_delete_permission(request, obj)


class PowerEntryInline(_EntryInline):
    model = PowerEntry
    fields = ("order", "code", "name", "power_type", "basis", "responsible_org", "item_code", "notes")


class ResponsibilityEntryInline(_EntryInline):
    model = ResponsibilityEntry
    fields = ("order", "power_code", "code", "responsibilities", "accountability", "basis")


class DutyListForm(forms.ModelForm):
    class Meta:
        model = DutyList
        fields = ("organisation", "effective_date", "change_reason")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        org = data.get("organisation")
        if self.instance.pk is None and org is not None:
            draft = DutyList.objects.filter(organisation=org, status=DutyList.Status.DRAFT).first()
            if draft is not None:
                raise forms.ValidationError(f"{org} 已有未发布的草稿 v{draft.version}，请先发布或删除该草稿")
        return data


@admin.register(DutyList)
class DutyListAdmin(SimpleHistoryAdmin):
    """A new version starts as a draft copying the latest version; publishing freezes it."""

    form = DutyListForm
    list_display = ("organisation", "version", "status", "effective_date", "published_at", "published_by")
    list_filter = ("status", "organisation")
    search_fields = ("organisation__code", "organisation__name", "change_reason")
    actions = ["publish"]

    def get_inlines(self, request: HttpRequest, obj: DutyList | None) -> list[type]:
        return [] if obj is None else [PowerEntryInline, ResponsibilityEntryInline]

    def get_readonly_fields(self, request: HttpRequest, obj: DutyList | None = None) -> tuple[str, ...]:
        base = ("version", "status", "created_at", "created_by", "published_at", "published_by")
        return base + ("organisation",) if obj is not None else base

    def has_change_permission(self, request: HttpRequest, obj: DutyList | None = None) -> bool:
        return not (obj is not None and obj.is_frozen) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: DutyList | None = None) -> bool:
        return not (obj is not None and obj.is_frozen) and super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: DutyList, form: Any, change: bool) -> None:
        if change:
            services.update_draft(obj, effective_date=obj.effective_date, change_reason=obj.change_reason,
                                  actor=request.user)
            return
        draft = services.create_draft(obj.organisation, actor=request.user, reason=obj.change_reason)
        if obj.effective_date:
            services.update_draft(draft, effective_date=obj.effective_date, actor=request.user)
        obj.pk, obj.version, obj.status, obj.created_at = draft.pk, draft.version, draft.status, draft.created_at
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if change and any(fs.has_changed() for fs in formsets):
            audit("catalog.list.edited", actor=request.user, obj=form.instance, reason="后台编辑",
                  detail={"organisation": form.instance.organisation.code, "version": form.instance.version})

    @admin.action(description="发布所选草稿（生效日期：草稿上填写的日期，未填则为今天）")
    def publish(self, request: HttpRequest, queryset: QuerySet[DutyList]) -> None:
        for duty_list in queryset.order_by("organisation", "version"):
            try:
                services.publish_duty_list(duty_list, actor=request.user, reason=duty_list.change_reason)
            except CatalogError as exc:
                self.message_user(request, f"{duty_list}：{exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"已发布 {duty_list}", messages.SUCCESS)
