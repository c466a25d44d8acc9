"""Errors of the credentials context, each with a stable machine-readable code (used by the API)."""

from __future__ import annotations

from typing import Any


class CredentialError(Exception):
    code = "credentials.error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None,
                 details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if http_status:
            self.http_status = http_status
        self.details = details


class NotFound(CredentialError):
    code = "credentials.not_found"
    http_status = 404


class InvalidData(CredentialError):
    code = "credentials.invalid_data"
    http_status = 422


class InvalidTransition(CredentialError):
    code = "credentials.invalid_transition"
    http_status = 409


class KeyMissing(CredentialError):
    code = "credentials.key_missing"
    http_status = 500


class AccessDenied(CredentialError):
    code = "credentials.forbidden"
    http_status = 403
