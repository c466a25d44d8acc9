"""Errors of the catalogue context, each with a stable code (used as the API error ``code``)."""

from __future__ import annotations

from tongban.core.errors import DomainError


class CatalogError(DomainError):
    """A catalogue operation was refused; ``message`` explains why (in Chinese), ``code`` is stable."""

    code = "catalog.invalid"


class FrozenListError(CatalogError):
    """An entry of a published (frozen) power/responsibility list version was to be edited."""

    code = "catalog.list_frozen"


class NotFound(CatalogError):
    """Something asked for by code does not exist (or is not published): HTTP 404."""

    code = "catalog.not_found"
    status = 404
