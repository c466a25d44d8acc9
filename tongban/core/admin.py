from axes.admin import AccessAttemptAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessLog
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin

from .login_protection import client_ip, unlock, unlock_records
from .models import (
    AuditLog,
    CalendarDay,
    Division,
    Organisation,
    Role,
    RoleAssignment,
    SiteConfiguration,
    User,
)
from .pii import PiiSearchMixin


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
class TongbanUserAdmin(PiiSearchMixin, UserAdmin):
    list_display = ("username", "display_name", "kind", "organisation", "is_staff")
    search_fields = (*UserAdmin.search_fields, "display_name")
    pii_search_fields = ("id_number",)  # encrypted: found by the exact number (docs/privacy.md)
    list_filter = ("kind", "is_staff", "organisation")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("通办", {"fields": ("kind", "display_name", "id_number", "phone",
                                                           "organisation")}))
    inlines = [RoleAssignmentInline]
    actions = ["unlock_login"]

    @admin.action(description="解除登录锁定", permissions=["change"])
    def unlock_login(self, request, queryset):
        _unlock(self, request, usernames=queryset.values_list("username", flat=True))


admin.site.register(Role)


@admin.register(SiteConfiguration)
class SiteConfigurationAdmin(admin.ModelAdmin):
    """站点配置: one record (the city this installation serves); it cannot be deleted, only changed."""

    list_display = ("platform_name", "city_name", "division_code", "reference_prefix", "service_centre", "updated_at")
    autocomplete_fields = ("service_centre", "operator")

    def has_add_permission(self, request):
        return not SiteConfiguration.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = 1
        super().save_model(request, obj, form, change)


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


def _unlock(model_admin: admin.ModelAdmin, request, *, usernames=(), addresses=()) -> None:
    """Unlock accounts and addresses (each audited) and tell the administrator what was done."""
    ip = client_ip(request)
    done = [name for name in sorted(set(usernames)) if unlock(username=name, actor=request.user, ip=ip)]
    done += [addr for addr in sorted(set(addresses)) if addr and unlock(ip_address=addr, actor=request.user, ip=ip)]
    if done:
        model_admin.message_user(request, "已解除登录锁定：" + "、".join(done), messages.SUCCESS)
    else:
        model_admin.message_user(request, "所选对象没有登录失败记录，无需解锁", messages.INFO)


@admin.register(AccessAttempt)
class LoginAttemptAdmin(AccessAttemptAdmin):
    """Failed sign-ins per account/address/browser (django-axes); unlocking is audited (auth.unlock)."""

    actions = ["unlock_accounts", "unlock_addresses", "cleanup_expired_attempts"]

    @admin.action(description="解除所选记录的账户锁定", permissions=["delete"])
    def unlock_accounts(self, request, queryset):
        _unlock(self, request, usernames=[u for u in queryset.values_list("username", flat=True) if u])

    @admin.action(description="解除所选记录的登录地址锁定", permissions=["delete"])
    def unlock_addresses(self, request, queryset):
        _unlock(self, request, addresses=queryset.values_list("ip_address", flat=True))

    def delete_model(self, request, obj):
        unlock_records([obj], actor=request.user, ip=client_ip(request))

    def delete_queryset(self, request, queryset):
        unlock_records(queryset, actor=request.user, ip=client_ip(request))


@admin.register(AccessLog)
class LoginLogAdmin(ReadOnlyAdmin, AccessLogAdmin):
    """Successful sign-ins and sign-outs on the login form (django-axes): read only."""
