"""Errors of the policies context (免申即享); the API answers ``{"code", "message"}``."""

from __future__ import annotations

from tongban.core.errors import DomainError


class PolicyError(DomainError):
    code = "policies.invalid"


class Forbidden(PolicyError):
    code = "policies.forbidden"
    status = 403


class NotFound(PolicyError):
    code = "policies.not_found"
    status = 404


class BadState(PolicyError):
    code = "policies.bad_state"
    status = 409


class SharedDataRefused(PolicyError):
    """The exchange refused a policy's read of another department's data (no usable grant, no consent, masked)."""

    code = "policies.shared_data_refused"
    status = 403


class SharedDataUnavailable(PolicyError):
    """The provider of another department's data failed; the policy is not decided in this run."""

    code = "policies.shared_data_unavailable"
    status = 503
