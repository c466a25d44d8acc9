"""Errors of 容错纠错, with stable codes."""

from __future__ import annotations

from tongban.core.errors import DomainError


class AccountabilityError(DomainError):
    code = "insight.accountability_invalid"
    status = 422


class NotFound(AccountabilityError):
    code = "insight.lead_not_found"
    status = 404


class Forbidden(AccountabilityError):
    code = "insight.accountability_forbidden"
    status = 403


class BadState(AccountabilityError):
    code = "insight.lead_bad_state"
    status = 409
