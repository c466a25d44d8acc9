"""Errors of the applications context: each has a stable code for the API and a clear Chinese message."""

from __future__ import annotations

from tongban.core.errors import DomainError


class ApplicationError(DomainError):
    code = "applications.error"
