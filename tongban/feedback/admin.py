from django.contrib import admin

from .models import Rating, Rectification, ServiceRecord, TrainingExample, WorkOrder, WorkOrderEvent


@admin.register(ServiceRecord)
class ServiceRecordAdmin(admin.ModelAdmin):
    list_display = ("ref", "kind", "item_name", "department", "window", "person_name", "served_at")
    list_filter = ("kind", "department")
    search_fields = ("ref", "application_ref", "item_name")


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ("service", "level", "channel", "real_name", "department", "created_at")
    list_filter = ("level", "channel", "department")


@admin.register(Rectification)
class RectificationAdmin(admin.ModelAdmin):
    list_display = ("rating", "department", "status", "due_on", "revisit_result")
    list_filter = ("status", "department")


class WorkOrderEventInline(admin.TabularInline):
    model = WorkOrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "kind", "actor_label", "message", "detail")


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = ("number", "type", "urgency", "status", "department", "created_at", "handling_due")
    list_filter = ("type", "status", "urgency", "department")
    search_fields = ("number", "text")
    inlines = [WorkOrderEventInline]


@admin.register(TrainingExample)
class TrainingExampleAdmin(admin.ModelAdmin):
    list_display = ("type", "department_code", "created_at", "text")
