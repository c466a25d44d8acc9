"""Errors of the catalogue context, each with a stable code (used as the API error ``code``)."""

from __future__ import annotations


class CatalogError(Exception):
    """A catalogue operation was refused; ``message`` explains why (in Chinese), ``code`` is stable."""

    code = "catalog.invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class FrozenListError(CatalogError):
    """An entry of a published (frozen) power/responsibility list version was to be edited."""

    code = "catalog.list_frozen"
