from django.contrib import admin

from tongban.core.pii import PiiSearchMixin

from .models import ArchiveRecord, Credential, CredentialEvent, LicenceType, SealKey, StatusList


@admin.register(LicenceType)
class LicenceTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "vc_type", "holder_kind", "validity_years", "issuing_org")
    search_fields = ("code", "name")


class CredentialEventInline(admin.TabularInline):
    model = CredentialEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "at", "actor_label", "reason", "detail")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Credential)
class CredentialAdmin(PiiSearchMixin, admin.ModelAdmin):
    list_display = ("licence_number", "licence_type", "holder_name", "issuer", "issued_at", "status")
    list_filter = ("status", "licence_type", "issuer")
    search_fields = ("licence_number", "holder_name", "application_ref")
    pii_search_fields = ("holder_id_number",)  # encrypted: found by the exact number
    readonly_fields = [f.name for f in Credential._meta.fields]
    inlines = [CredentialEventInline]

    def has_add_permission(self, request) -> bool:
        return False  # issue through the service (seal, VC, status list), not a bare row


@admin.register(SealKey)
class SealKeyAdmin(admin.ModelAdmin):
    list_display = ("kid", "organisation", "algorithm", "created_at", "retired_at")
    list_filter = ("algorithm", "organisation")
    readonly_fields = ("organisation", "kid", "algorithm", "public_key_pem", "certificate_pem", "created_at",
                       "retired_at")

    def has_add_permission(self, request) -> bool:
        return False  # keys are created by ensure/rotate (private half under KEYS_DIR)


@admin.register(StatusList)
class StatusListAdmin(admin.ModelAdmin):
    list_display = ("id", "organisation", "purpose", "sequence", "next_index", "updated_at")
    readonly_fields = ("id", "organisation", "purpose", "sequence", "next_index", "updated_at")
    exclude = ("bitstring",)


@admin.register(ArchiveRecord)
class ArchiveRecordAdmin(admin.ModelAdmin):
    list_display = ("application_ref", "file_count", "retention_until", "created_at", "path")
    search_fields = ("application_ref",)
