"""Power and responsibility lists as CSV or Excel tables: reading them into entries (with row numbers and
row errors), and writing a list version out again.

One list kind per CSV file; one per sheet in Excel (sheets named 权力清单 / 责任清单, or ``powers`` /
``responsibilities``). Headers are the Chinese labels or the field names. Errors read ``FILE:ROW: message``
(header = row 1; Excel messages name the sheet).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import formats
from ..models import DutyList, ItemType, chinese_labels
from .issues import CatalogFileError, Issue, fail, read_bytes, unsupported

POWER_COLUMNS: list[tuple[str, str]] = [
    ("code", "职权编码"), ("name", "职权名称"), ("power_type", "职权类型"), ("basis", "实施依据"),
    ("responsible_org", "实施主体"), ("item_code", "对应事项编码"), ("notes", "备注"),
]
RESPONSIBILITY_COLUMNS: list[tuple[str, str]] = [
    ("power_code", "对应职权编码"), ("code", "责任编码"), ("responsibilities", "责任事项"),
    ("accountability", "追责情形"), ("basis", "责任依据"),
]
COLUMNS = {"powers": POWER_COLUMNS, "responsibilities": RESPONSIBILITY_COLUMNS}
REQUIRED_COLUMNS = formats.ENTRY_REQUIRED
KIND_LABELS = {"powers": "权力清单", "responsibilities": "责任清单"}
TYPE_BY_LABEL = {label: value for value, label in chinese_labels(ItemType).items()}
_CODE_RE = re.compile(formats.load_schema()["$defs"]["code"]["pattern"])


@dataclass
class Table:
    """One list of a file: its kind, its rows (``rows[0]`` is the header) and, once read, its entries."""

    kind: str | None
    rows: list[list[str]]
    where: str = ""  # "工作表“…”：" for Excel sheets
    readable: bool = False  # the header is right, so the rows could be read
    entries: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (row number, complete entry)

    @property
    def values(self) -> list[dict[str, Any]]:
        return [entry for _, entry in self.entries]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()[:10]
    return str(value).strip()


def _column_field(header: str) -> str | None:
    h = header.strip().lower()
    for columns in COLUMNS.values():
        for name, label in columns:
            if h in (name, label):
                return name
    return None


def _kind_from_header(header: list[str]) -> str | None:
    fields = {_column_field(h) for h in header}
    if "power_type" in fields:
        return "powers"
    if "power_code" in fields or "accountability" in fields:
        return "responsibilities"
    return None


def _kind_from_title(title: str) -> str | None:
    t = title.strip().lower()
    for kind, label in KIND_LABELS.items():
        if t in (kind, label) or label in title:
            return kind
    return None


def read_tables(path: Path, display: str, kind: str | None) -> list[Table]:
    """The lists of a ``.csv`` file (one) or an ``.xlsx`` workbook (one a sheet), rows not yet checked."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [_csv_table(path, display, kind)]
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_tables(path, display, kind)
    raise unsupported(display, suffix)


def _csv_table(path: Path, display: str, kind: str | None) -> Table:
    raw = read_bytes(path, display)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost anything
        raise fail(display, 1, "无法识别文件编码（请使用 UTF-8）")
    rows = [[_cell(c) for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
    if not rows:
        raise fail(display, 1, "文件是空的")
    return Table(kind or _kind_from_header(rows[0]), rows)


def _xlsx_tables(path: Path, display: str, kind: str | None) -> list[Table]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors for a bad file
        raise fail(display, 1, f"无法读取 Excel 文件：{exc}") from exc
    tables = []
    issues = []
    for sheet in book.worksheets:
        rows = [[_cell(c) for c in row] for row in sheet.iter_rows(values_only=True)]
        if not any(any(r) for r in rows):
            continue
        sheet_kind = _kind_from_title(sheet.title) or _kind_from_header(rows[0])
        if kind is not None and sheet_kind not in (None, kind):
            continue
        if sheet_kind is None and kind is None:
            issues.append(Issue(display, 1, f"工作表“{sheet.title}”：无法判断是权力清单还是责任清单"
                                              "（工作表名应为“权力清单”或“责任清单”）"))
            continue
        tables.append(Table(sheet_kind or kind, rows, where=f"工作表“{sheet.title}”："))
    book.close()
    if issues:
        raise CatalogFileError(issues)
    if not tables:
        raise fail(display, 1, "没有找到权力清单或责任清单工作表")
    return tables


def read_entries(table: Table, display: str) -> list[Issue]:
    """Check the header and every row of ``table``, filling ``table.entries``; the issues found (when the
    header is wrong, its issues only: ``table.readable`` stays false and there are no entries)."""
    issues: list[Issue] = []

    def err(row: int, message: str) -> None:
        issues.append(Issue(display, row, f"{table.where}{message}"))

    fields = _header_fields(table, err)
    if fields is None or table.kind is None:
        return issues
    table.readable = True
    labels = dict(COLUMNS[table.kind])
    first_row: dict[str, int] = {}
    for number, row in enumerate(table.rows[1:], start=2):
        if not any(row):
            continue
        values = {f: (row[c] if c < len(row) else "") for c, f in enumerate(fields) if f}
        for f in REQUIRED_COLUMNS[table.kind]:
            if not values.get(f):
                err(number, f"“{labels[f]}”不能为空")
        code = values.get("code", "")
        if (code and not _CODE_RE.match(code)) or len(code) > 64:
            err(number, f"“{labels['code']}” “{code}” 格式不正确（字母、数字开头，只含字母、数字和 . _ -）")
        if code in first_row:
            err(number, f"“{labels['code']}” “{code}” 重复（首次出现在第 {first_row[code]} 行）")
        elif code:
            first_row[code] = number
        value = values.get("power_type") if table.kind == "powers" else None
        if value and value not in ItemType.values:
            if value in TYPE_BY_LABEL:
                values["power_type"] = TYPE_BY_LABEL[value]
            else:
                err(number, f"职权类型 “{value}” 无效，应为：{'、'.join(TYPE_BY_LABEL)}")
        table.entries.append((number, formats.normalize_entry(table.kind, values)))
    return issues


def _header_fields(table: Table, err: Callable[[int, str], None]) -> list[str | None] | None:
    """The field of each column (``None`` for an empty header cell); ``None`` when the header is wrong."""
    if table.kind is None:
        err(1, "无法判断是权力清单还是责任清单：表头应包含“职权类型”（权力清单）或“对应职权编码”（责任清单）")
        return None
    labels = dict(COLUMNS[table.kind])
    fields: list[str | None] = []
    ok = True
    for col, name in enumerate(table.rows[0], start=1):
        f = _column_field(name)
        if name and (f is None or f not in labels):
            err(1, f"第 {col} 列表头 “{name}” 无法识别")
            ok = False
        if f in fields and f is not None:
            err(1, f"第 {col} 列表头 “{name}” 重复")
            ok = False
        fields.append(f)
    missing = [labels[f] for f in REQUIRED_COLUMNS[table.kind] if f not in fields]
    if missing:
        err(1, f"缺少必需的列：{'、'.join(missing)}")
        ok = False
    return fields if ok else None


# --- writing a list version out -------------------------------------------------------------------


def list_rows(duty_list: DutyList, kind: str) -> list[list[str]]:
    """A header row (Chinese labels) and one row per entry; power types as their Chinese names."""
    columns = COLUMNS[kind]
    rows = [[label for _, label in columns]]
    labels = chinese_labels(ItemType)
    for entry in getattr(duty_list, kind).all():
        d = formats.entry_to_dict(kind, entry)
        if kind == "powers":
            d["power_type"] = labels.get(d["power_type"], d["power_type"])
        rows.append([d[f] for f, _ in columns])
    return rows


def export_list_csv(duty_list: DutyList, kind: str) -> bytes:
    """UTF-8 with BOM, so that spreadsheet programs show the Chinese text correctly."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(list_rows(duty_list, kind))
    return buffer.getvalue().encode("utf-8-sig")


def export_list_xlsx(duty_list: DutyList, kinds: Iterable[str] = formats.LIST_KINDS) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    book.remove(book.active)
    for kind in kinds:
        sheet = book.create_sheet(KIND_LABELS[kind])
        for row in list_rows(duty_list, kind):
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_list_json(duty_list: DutyList, kind: str | None = None) -> str:
    """One kind: ``{organisation, version, effective_date, <kind>: [...]}`` (as the JSON feed).

    Both kinds (``kind=None``): a ``tongban-catalog/1`` file holding this one version, loadable again.
    """
    if kind is None:
        doc: dict[str, Any] = {"format": formats.FORMAT, "duty_lists": [formats.duty_list_to_dict(duty_list)]}
    else:
        full = formats.duty_list_to_dict(duty_list)
        doc = {"organisation": duty_list.organisation.code, "organisation_name": duty_list.organisation.name,
               "version": duty_list.version, "effective_date": full.get("effective_date"), kind: full[kind]}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
