"""Back office: the message log (every message and its delivery on each channel), read-only."""

from __future__ import annotations

from django.contrib import admin

from .models import Delivery, Message, Preference


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("channel", "status", "attempts", "last_error", "sent_at", "next_attempt_at", "provider_id")
    readonly_fields = fields


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "event", "subject", "read_at")
    list_filter = ("event",)
    search_fields = ("subject", "ref", "recipient__username")
    readonly_fields = ("recipient", "event", "subject", "body", "short_text", "link", "ref", "dedupe_key",
                       "created_at", "read_at")
    inlines = [DeliveryInline]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "message", "channel", "status", "attempts", "sent_at")
    list_filter = ("channel", "status")
    readonly_fields = ("message", "channel", "status", "attempts", "last_error", "provider_id", "created_at",
                       "next_attempt_at", "sent_at")
    exclude = ("address",)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "channels", "updated_at")
