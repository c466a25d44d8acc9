"""Errors of the notifications context (the API answers ``{"code", "message"}``)."""

from __future__ import annotations

from tongban.core.errors import DomainError

INVALID = "notifications.invalid"
NOT_FOUND = "notifications.not_found"
UNKNOWN_EVENT = "notifications.unknown_event"


class NotificationError(DomainError):
    code = INVALID


class NotFound(NotificationError):
    code = NOT_FOUND
    status = 404
