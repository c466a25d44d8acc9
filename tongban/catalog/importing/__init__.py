"""Import and export of the catalogue: ``tongban-catalog/1`` JSON files, and CSV/Excel power and responsibility lists.

Loading a file is all or nothing:

1. parse, remembering the line of every value (and of every object, for missing keys) — ``parser``;
2. validate against ``schemas/catalog.schema.json`` (every error is collected, not just the first) — ``checks``;
3. validate the meaning (unknown organisations, items, materials, powers; duplicate codes; dates in order, ...)
   — ``checks``; spreadsheets are read and checked row by row in ``tables``;
4. only when there is no error at all, write everything in one database transaction — ``loading``.

Errors read ``FILE:LINE: message`` (``FILE:ROW: message`` for spreadsheets). Items and bundles are upserted
by code; unchanged ones are left alone. The ``duty_lists`` entries of one organisation become successive
versions in file order, appended to that organisation's existing versions where the two histories overlap:
entries already matching the organisation's latest versions create nothing, so loading the same file twice
changes nothing.
"""

from __future__ import annotations

from .checks import validate_catalog, validate_schema
from .issues import CatalogFileError, Issue
from .loading import (
    ImportResult,
    Progress,
    export_catalog_json,
    load_catalog,
    load_catalog_data,
    load_file,
    load_list_table,
)
from .parser import MAX_DEPTH, MAX_INT_DIGITS, Positions, parse_json
from .tables import (
    COLUMNS,
    KIND_LABELS,
    POWER_COLUMNS,
    REQUIRED_COLUMNS,
    RESPONSIBILITY_COLUMNS,
    TYPE_BY_LABEL,
    export_list_csv,
    export_list_json,
    export_list_xlsx,
    list_rows,
)

__all__ = [
    "COLUMNS", "KIND_LABELS", "MAX_DEPTH", "MAX_INT_DIGITS", "POWER_COLUMNS", "REQUIRED_COLUMNS",
    "RESPONSIBILITY_COLUMNS", "TYPE_BY_LABEL", "CatalogFileError", "ImportResult", "Issue", "Positions", "Progress",
    "export_catalog_json", "export_list_csv", "export_list_json", "export_list_xlsx", "list_rows", "load_catalog",
    "load_catalog_data", "load_file", "load_list_table", "parse_json", "validate_catalog", "validate_schema",
]
