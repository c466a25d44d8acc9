"""Errors of the security operations context (the API answers ``{"code", "message"}``)."""

from __future__ import annotations

from tongban.core.errors import DomainError

FORBIDDEN = "security.forbidden"
NOT_FOUND = "security.not_found"
BAD_TRANSITION = "security.bad_transition"
INVALID = "security.invalid"


class SecurityError(DomainError):
    code = INVALID


class Forbidden(SecurityError):
    code = FORBIDDEN
    status = 403


class NotFound(SecurityError):
    code = NOT_FOUND
    status = 404


class BadTransition(SecurityError):
    code = BAD_TRANSITION
    status = 409
