"""Back office: items and benchmarks (editable), leads and cases (read), the case record (read-only, append-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import BenchmarkLevel, CaseRecord, Certificate, EnforcementCase, EnforcementItem, Factor, Lead


class LevelInline(admin.TabularInline):
    model = BenchmarkLevel
    extra = 0


@admin.register(EnforcementItem)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "department", "law", "article", "active")
    search_fields = ("code", "name", "law")
    inlines = [LevelInline]


@admin.register(Factor)
class FactorAdmin(admin.ModelAdmin):
    list_display = ("code", "kind", "fact", "description", "legal_basis", "item")


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("ref", "source", "entity_name", "item_code", "department", "status", "reported_at")
    list_filter = ("source", "status")


@admin.register(EnforcementCase)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("case_no", "party_name", "item", "department", "stage", "decided_on", "published_at")
    list_filter = ("stage", "department")
    search_fields = ("case_no", "party_name")

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # cases change only through their steps (services), never by hand


@admin.register(CaseRecord)
class RecordAdmin(admin.ModelAdmin):
    list_display = ("case", "seq", "at", "actor_label", "step", "action")

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ("number", "user", "department", "field", "valid_until", "active")
