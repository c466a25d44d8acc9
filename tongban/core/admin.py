from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import AuditLog, CalendarDay, Division, Organisation, Role, RoleAssignment, User


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "division", "parent")
    list_filter = ("kind", "division__level")
    search_fields = ("code", "name")


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    fk_name = "user"


@admin.register(User)
class TongbanUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "kind", "organisation", "is_staff")
    list_filter = ("kind", "is_staff", "organisation")
    fieldsets = (*UserAdmin.fieldsets, ("通办", {"fields": ("kind", "display_name", "id_number", "phone",
                                                           "organisation")}))
    inlines = [RoleAssignmentInline]


admin.site.register(Role)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For append-only logs (data access log, signed tree heads, the workflow event log): read, never edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_id", "reason")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "actor_label", "reason")

    def has_change_permission(self, request, obj=None):  # append-only
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "division", "note")
    list_filter = ("is_workday",)
