"""Errors of the credentials context, each with a stable machine-readable code (used by the API)."""

from __future__ import annotations

from tongban.core.errors import DomainError


class CredentialError(DomainError):
    code = "credentials.error"


class NotFound(CredentialError):
    code = "credentials.not_found"
    status = 404


class InvalidData(CredentialError):
    code = "credentials.invalid_data"
    status = 422


class InvalidTransition(CredentialError):
    code = "credentials.invalid_transition"
    status = 409


class KeyMissing(CredentialError):
    code = "credentials.key_missing"
    status = 500


class AccessDenied(CredentialError):
    code = "credentials.forbidden"
    status = 403
