"""Back office for supervision: the register and the inspector register are editable; draws, the log, credit
records and post-checks are read-only (they change through the services, which audit and log them)."""

from typing import Any

from django.contrib import admin

from .models import (
    CreditEvent,
    Draw,
    DrawPlan,
    EnforcementLead,
    Inspector,
    LogEntry,
    MarketEntity,
    PostCheck,
    RiskModel,
    SupervisionRecord,
)


class ReadOnly(admin.ModelAdmin):
    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(MarketEntity)
class MarketEntityAdmin(admin.ModelAdmin):
    list_display = ("uscc", "name", "kind", "division", "industry", "grade", "status")
    list_filter = ("grade", "kind", "status", "industry")
    search_fields = ("uscc", "name")
    readonly_fields = ("grade", "credit_score", "grade_reasons", "graded_at", "licences")
    filter_horizontal = ("supervising_departments",)


@admin.register(Inspector)
class InspectorAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "department", "division", "active")
    list_filter = ("department", "active")
    search_fields = ("code", "name")


@admin.register(DrawPlan)
class DrawPlanAdmin(ReadOnly):
    list_display = ("code", "name", "department", "period_start", "period_end")


@admin.register(Draw)
class DrawAdmin(ReadOnly):
    list_display = ("id", "plan", "seed", "algorithm", "drawn_at", "log_index")


@admin.register(CreditEvent)
class CreditEventAdmin(ReadOnly):
    list_display = ("entity", "kind", "points", "occurred_on", "repaired")
    list_filter = ("kind", "repaired")


@admin.register(SupervisionRecord)
class SupervisionRecordAdmin(ReadOnly):
    list_display = ("application_ref", "item_name", "subject_name", "department", "receipt_due", "status")
    list_filter = ("status", "department")


@admin.register(PostCheck)
class PostCheckAdmin(ReadOnly):
    list_display = ("application_ref", "subject_name", "department", "due_on", "status")
    list_filter = ("status", "department")


@admin.register(EnforcementLead)
class EnforcementLeadAdmin(ReadOnly):
    list_display = ("subject_name", "department", "source", "status", "due_on")
    list_filter = ("source", "status")


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnly):
    list_display = ("index", "kind", "root", "created_at")


@admin.register(RiskModel)
class RiskModelAdmin(ReadOnly):
    list_display = ("trained_at", "auc", "train_size", "test_size")
