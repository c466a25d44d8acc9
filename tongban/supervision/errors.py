"""Errors of the supervision context: a stable code for the API and a clear Chinese message naming the field."""

from __future__ import annotations

from tongban.core.errors import DomainError


class SupervisionError(DomainError):
    code = "supervision.error"


class NotFound(SupervisionError):
    code = "supervision.not_found"
    status = 404


class InvalidInput(SupervisionError):
    """Bad input; ``detail["field"]`` names the field (and ``detail["row"]`` the CSV row when loading)."""

    code = "supervision.invalid"
    status = 422

    def __init__(self, message: str, *, field: str, code: str | None = None, row: int | None = None,
                 status: int | None = None) -> None:
        detail: dict[str, object] = {"field": field}
        if row is not None:
            detail["row"] = row
        super().__init__(message, code=code, status=status, detail=detail)
        self.field, self.row = field, row


class Forbidden(SupervisionError):
    code = "supervision.forbidden"
    status = 403


class Conflict(SupervisionError):
    code = "supervision.conflict"
    status = 409
