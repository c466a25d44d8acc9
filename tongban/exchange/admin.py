from django.contrib import admin

from tongban.core.admin import ReadOnlyAdmin
from tongban.core.pii import PiiSearchMixin

from .models import (
    AccessLogEntry,
    Consent,
    DataResource,
    ExchangeClient,
    Grant,
    ProviderRecord,
    SignedTreeHead,
)


@admin.register(DataResource)
class DataResourceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "owner", "sharing_type", "update_frequency", "active")
    list_filter = ("sharing_type", "update_frequency", "active", "owner")
    search_fields = ("code", "name")


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ("id", "resource", "consumer", "status", "requested_at", "expires_at", "decided_by")
    list_filter = ("status", "resource", "consumer")
    search_fields = ("purpose", "legal_basis")
    readonly_fields = ("requested_at", "decided_at", "revoked_at", "process_instance_id")

    def has_delete_permission(self, request, obj=None):  # decisions are kept; revoke instead
        return False


@admin.register(Consent)
class ConsentAdmin(PiiSearchMixin, admin.ModelAdmin):
    list_display = ("ref", "subject_id", "code", "consumer", "case_ref", "given_at", "withdrawn_at")
    list_filter = ("source", "consumer")
    search_fields = ("case_ref",)
    pii_search_fields = ("subject_id",)  # encrypted: found by the exact identifier
    readonly_fields = ("ref",)


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(PiiSearchMixin, ReadOnlyAdmin):
    list_display = ("seq", "at", "actor", "consumer_org", "resource", "subject_id", "case_ref", "outcome",
                    "error_code")
    list_filter = ("outcome", "source", "resource")
    search_fields = ("case_ref", "consumer_org")
    pii_search_fields = ("subject_id",)


@admin.register(SignedTreeHead)
class SignedTreeHeadAdmin(ReadOnlyAdmin):
    list_display = ("tree_size", "root_hash", "timestamp", "key_id")


@admin.register(ProviderRecord)
class ProviderRecordAdmin(PiiSearchMixin, admin.ModelAdmin):
    list_display = ("resource", "subject_id", "updated_at")
    list_filter = ("resource",)
    pii_search_fields = ("subject_id",)  # encrypted: found by the exact identifier
    search_fields = ()


@admin.register(ExchangeClient)
class ExchangeClientAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "key_prefix", "active", "created_at", "last_used_at")
    list_filter = ("active",)
    readonly_fields = ("key_prefix", "key_hash", "created_at", "last_used_at")

    def has_add_permission(self, request):  # keys are created with `tongban exchange create-client`
        return False
