"""Errors of the applications context: each has a stable code for the API and a clear Chinese message."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    def __init__(self, code: str, message: str, *, status: int = 400, **detail: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail:
            body["detail"] = self.detail
        return body
