from django.contrib import admin

from tongban.core.admin import ReadOnlyAdmin

from .models import IncidentNotice, ScanRun, SecurityIncident


@admin.register(SecurityIncident)
class SecurityIncidentAdmin(ReadOnlyAdmin):
    """Read-only: incidents are handled on /security/incidents/ through the response process."""

    list_display = ("id", "opened_at", "severity", "status", "rule", "title")
    list_filter = ("severity", "status", "rule")
    search_fields = ("title", "subject_label")


@admin.register(IncidentNotice)
class IncidentNoticeAdmin(ReadOnlyAdmin):
    list_display = ("id", "incident", "person", "created_at", "read_at")


@admin.register(ScanRun)
class ScanRunAdmin(ReadOnlyAdmin):
    list_display = ("at", "trigger", "findings", "opened")
