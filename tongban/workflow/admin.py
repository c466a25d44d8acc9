from django.contrib import admin

from tongban.core.admin import ReadOnlyAdmin

from .models import (
    DecisionDefinition,
    Event,
    Notification,
    ProcessDefinition,
    ProcessInstance,
    Task,
    Timer,
    Token,
)


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(admin.ModelAdmin):
    list_display = ("key", "version", "name", "source_name", "deployed_at", "deployed_by")
    list_filter = ("key",)
    search_fields = ("key", "name")
    readonly_fields = ("key", "version", "checksum", "deployed_at", "deployed_by", "graph")
    exclude = ("display_xml",)


@admin.register(DecisionDefinition)
class DecisionDefinitionAdmin(admin.ModelAdmin):
    list_display = ("key", "version", "name", "source_name", "deployed_at")
    search_fields = ("key", "name")
    readonly_fields = ("key", "version", "checksum", "deployed_at", "deployed_by", "table")


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    fields = ("name", "candidate_org", "candidate_role", "state", "assignee", "outcome", "due_on", "light")
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(ProcessInstance)
class ProcessInstanceAdmin(admin.ModelAdmin):
    list_display = ("id", "process_key", "business_key", "status", "light", "due_on", "started_at", "ended_at")
    list_filter = ("status", "process_key", "light")
    search_fields = ("business_key", "process_key")
    raw_id_fields = ("definition", "parent", "parent_token", "root", "started_by")
    inlines = [TaskInline]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "candidate_org", "candidate_role", "state", "assignee", "due_on", "light")
    list_filter = ("state", "light", "candidate_role", "candidate_org")
    search_fields = ("name", "instance__business_key")
    raw_id_fields = ("instance", "token", "assignee", "candidate_org")


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    list_display = ("id", "instance", "element_id", "state", "parent", "created_at")
    list_filter = ("state",)
    raw_id_fields = ("instance", "parent")


@admin.register(Timer)
class TimerAdmin(admin.ModelAdmin):
    list_display = ("id", "instance", "element_id", "due_at", "fired_at", "cancelled_at")
    raw_id_fields = ("instance", "token")


class EventTypeFilter(admin.SimpleListFilter):
    """The known event types as fixed choices (no ``SELECT DISTINCT`` over the whole log on every page)."""

    title = "类型"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        from .views import EVENT_LABELS

        return [(code, f"{label} ({code})") for code, label in EVENT_LABELS.items()]

    def queryset(self, request, queryset):
        return queryset.filter(type=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The event log is append-only: read it here, never edit it. It is also the audit trail of engine steps:
    search by the actor's name to see what a person did. Newest first by id (the log's insertion order)."""

    list_display = ("at", "instance", "type", "element_id", "actor_label")
    list_filter = (EventTypeFilter,)
    search_fields = ("instance__business_key", "element_id", "actor_label")
    raw_id_fields = ("instance", "actor", "task")
    ordering = ("-id",)
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "subject", "read_at")
    list_filter = ("kind",)
    raw_id_fields = ("recipient", "task")
