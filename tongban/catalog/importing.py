"""Import and export of the catalogue: ``tongban-catalog/1`` JSON files, and CSV/Excel power and responsibility lists.

Loading a file is all or nothing:

1. parse, remembering the line of every value (and of every object, for missing keys);
2. validate against ``schemas/catalog.schema.json`` (every error is collected, not just the first);
3. validate the meaning (unknown organisations, items, materials, powers; duplicate codes; dates in order, ...);
4. only when there is no error at all, write everything in one database transaction.

Errors read ``FILE:LINE: message`` (``FILE:ROW: message`` for spreadsheets). Items and bundles are upserted
by code; unchanged ones are left alone. The ``duty_lists`` entries of one organisation become successive
versions in file order, appended to that organisation's existing versions where the two histories overlap:
entries already matching the organisation's latest versions create nothing, so loading the same file twice
changes nothing.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

import jsonschema
from django.db import DatabaseError, transaction
from django.utils import timezone
from jsonschema.exceptions import best_match

from tongban.core.models import Organisation, User
from tongban.core.services import audit

from . import formats, selectors, services
from .errors import CatalogError
from .models import DutyList, ItemType, ServiceItem, chinese_labels

Path_ = tuple[str | int, ...]
Progress = Callable[[str, int, int], None]  # (what, done, total)


# --- results and errors ----------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in an import file: ``FILE:LINE: message``."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class CatalogFileError(CatalogError):
    """The file has errors; nothing was written. ``issues`` lists all of them, by line."""

    code = "catalog.invalid_file"

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = sorted(set(issues))
        super().__init__("\n".join(str(i) for i in self.issues))


@dataclass
class ImportResult:
    file: str
    dry_run: bool = False
    items: Counter[str] = field(default_factory=Counter)
    bundles: Counter[str] = field(default_factory=Counter)
    versions_created: list[tuple[str, int, str]] = field(default_factory=list)  # (org, version, status)
    lists_unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.items[services.CREATED] or self.items[services.UPDATED] or self.bundles[services.CREATED]
                    or self.bundles[services.UPDATED] or self.versions_created)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "dry_run": self.dry_run, "items": dict(self.items),
                "bundles": dict(self.bundles),
                "versions_created": [{"organisation": o, "version": v, "status": s}
                                     for o, v, s in self.versions_created],
                "lists_unchanged": self.lists_unchanged}


class _Rollback(Exception):
    pass


# --- JSON with line numbers ------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}


class Positions:
    """Line numbers of the values (and object keys) of a parsed JSON document, by path."""

    def __init__(self) -> None:
        self.values: dict[Path_, int] = {}
        self.keys: dict[Path_, int] = {}

    def line(self, path: Iterable[str | int]) -> int:
        """Line of the value at ``path``, else of its nearest enclosing value."""
        p = tuple(path)
        while p and p not in self.values:
            p = p[:-1]
        return self.values.get(p, 1)

    def key_line(self, path: Iterable[str | int]) -> int:
        p = tuple(path)
        return self.keys.get(p) or self.line(p)


class _LineParser:
    """A JSON reader that records where each value starts. Run it only on text ``json.loads`` accepted."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.pos = Positions()
        self.duplicates: list[tuple[Path_, int, int]] = []  # (path, line, first line)

    def line(self, index: int) -> int:
        return bisect.bisect_left(self.newlines, index) + 1

    def ws(self, i: int) -> int:
        return _WS.match(self.s, i).end()  # type: ignore[union-attr]

    def parse(self) -> Any:
        value, _ = self.value(self.ws(0), ())
        return value

    def value(self, i: int, path: Path_) -> tuple[Any, int]:
        s = self.s
        self.pos.values[path] = self.line(i)
        c = s[i]
        if c == "{":
            obj: dict[str, Any] = {}
            i = self.ws(i + 1)
            if s[i] == "}":
                return obj, i + 1
            while True:
                key_line = self.line(i)
                key, i = scanstring(s, i + 1)
                kp = (*path, key)
                if key in obj:
                    self.duplicates.append((kp, key_line, self.pos.keys[kp]))
                self.pos.keys[kp] = key_line
                i = self.ws(self.ws(i) + 1)  # the colon
                obj[key], i = self.value(i, kp)
                i = self.ws(i)
                if s[i] == ",":
                    i = self.ws(i + 1)
                    continue
                return obj, i + 1
        if c == "[":
            arr: list[Any] = []
            i = self.ws(i + 1)
            if s[i] == "]":
                return arr, i + 1
            while True:
                item, i = self.value(i, (*path, len(arr)))
                arr.append(item)
                i = self.ws(i)
                if s[i] == ",":
                    i = self.ws(i + 1)
                    continue
                return arr, i + 1
        if c == '"':
            return scanstring(s, i + 1)
        for word, lit in _LITERALS.items():
            if s.startswith(word, i):
                return lit, i + len(word)
        m = _NUMBER.match(s, i)
        assert m is not None, "parse only text that json.loads accepted"
        text = m.group(0)
        return (float(text) if m.group(1) or m.group(2) else int(text)), m.end()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"JSON 不允许 {name}")


def parse_json(text: str, filename: str) -> tuple[Any, Positions]:
    """Parse JSON, keeping the line of every value. Raises ``CatalogFileError`` on bad syntax or duplicate keys."""
    try:
        json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise CatalogFileError([Issue(filename, exc.lineno, f"JSON 语法错误：{exc.msg}（第 {exc.colno} 列）")]
                               ) from exc
    except ValueError as exc:
        raise CatalogFileError([Issue(filename, 1, f"JSON 语法错误：{exc}")]) from exc
    parser = _LineParser(text)
    data = parser.parse()
    issues = [Issue(filename, line, f"{_path_text(p)}: 字段重复（首次出现在第 {first} 行）")
              for p, line, first in parser.duplicates]
    if issues:
        raise CatalogFileError(issues)
    return data, parser.pos


def _read_text(path: Path, display: str) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogFileError([Issue(display, 0, f"无法读取文件：{exc.strerror or exc}")]) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CatalogFileError([Issue(display, line, "文件不是 UTF-8 编码")]) from exc


# --- schema validation -----------------------------------------------------------------------------

_TYPE_NAMES = {"string": "字符串", "integer": "整数", "number": "数字", "boolean": "布尔值（true/false）",
               "object": "对象", "array": "数组", "null": "null"}


def _path_text(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(根对象)"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _types(value: Any) -> str:
    names = value if isinstance(value, list) else [value]
    return " 或 ".join(_TYPE_NAMES.get(n, n) for n in names)


def _schema_message(err: jsonschema.ValidationError) -> str:
    v, vv, inst = err.validator, err.validator_value, err.instance
    if v == "required":
        m = re.match(r"^'(.+)' is a required property$", err.message)
        return f"缺少必填字段 “{m.group(1) if m else vv}”"
    if v == "enum":
        return f"取值 {_show(inst)} 无效，应为以下之一：{'、'.join(str(x) for x in vv)}"
    if v == "const":
        return f"应为 {_show(vv)}，实际为 {_show(inst)}"
    if v == "type":
        return f"类型错误：应为{_types(vv)}，实际为 {_show(inst)}"
    if v == "pattern":
        return f"取值 {_show(inst)} 格式不正确（须匹配 {vv}）"
    if v == "minLength":
        return "不能为空" if vv == 1 else f"长度不能少于 {vv} 个字符"
    if v == "maxLength":
        return f"长度不能超过 {vv} 个字符（实际 {len(inst)} 个）"
    if v == "minimum":
        return f"不能小于 {vv}（实际 {inst}）"
    if v == "maximum":
        return f"不能大于 {vv}（实际 {inst}）"
    if v == "minItems":
        return f"至少需要 {vv} 项（实际 {len(inst)} 项）"
    if v == "format":
        return f"取值 {_show(inst)} 不是有效的{'日期（YYYY-MM-DD）' if vv == 'date' else vv}"
    if v in ("oneOf", "anyOf") and err.context:
        return _schema_message(best_match(err.context))
    return err.message


def validate_schema(data: Any, pos: Positions, filename: str) -> list[Issue]:
    """Every schema error of ``data``, each at the line of the offending value (or key, or object)."""
    validator = jsonschema.Draft202012Validator(formats.load_schema(),
                                                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    issues = []
    for err in validator.iter_errors(data):
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            for key in err.instance:
                if key not in allowed:
                    issues.append(Issue(filename, pos.key_line((*path, key)),
                                        f"{_path_text((*path, key))}: 不允许的字段 “{key}”"))
            continue
        issues.append(Issue(filename, pos.line(path), f"{_path_text(path)}: {_schema_message(err)}"))
    return issues


# --- semantic validation ---------------------------------------------------------------------------


def _dicts(data: Any, key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    seq = data.get(key) if isinstance(data, dict) else None
    if isinstance(seq, list):
        for i, obj in enumerate(seq):
            if isinstance(obj, dict):
                yield i, obj


def _str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def _strs(obj: dict[str, Any], key: str) -> Iterator[tuple[int, str]]:
    seq = obj.get(key)
    if isinstance(seq, list):
        for i, v in enumerate(seq):
            if isinstance(v, str):
                yield i, v


@dataclass
class _ListPlan:
    organisation: str
    entries: list[tuple[int, dict[str, Any]]]  # (index in duty_lists, entry) to create, in order
    unchanged: int


@dataclass
class _Plan:
    items: list[tuple[int, dict[str, Any]]]  # parents first
    bundles: list[tuple[int, dict[str, Any]]]
    lists: list[_ListPlan]


class _Checker:
    """Semantic checks of a schema-checked (or partly invalid) document; collects issues with lines."""

    def __init__(self, data: Any, pos: Positions, filename: str) -> None:
        self.data, self.pos, self.file = data, pos, filename
        self.issues: list[Issue] = []
        self.orgs = set(Organisation.objects.values_list("code", flat=True))
        self.file_items: dict[str, tuple[int, dict[str, Any]]] = {}

    def error(self, path: Path_, message: str, *, key: bool = False) -> None:
        line = self.pos.key_line(path) if key else self.pos.line(path)
        self.issues.append(Issue(self.file, line, f"{_path_text(path)}: {message}"))

    def org(self, obj: dict[str, Any], key: str, path: Path_) -> None:
        code = _str(obj, key)
        if code is not None and code not in self.orgs:
            self.error((*path, key), f"未知的机构编码 “{code}”")

    def unique(self, path: Path_, objs: Iterable[tuple[int, dict[str, Any]]], label: str) -> dict[str, int]:
        """Report duplicate ``code`` values among ``objs``; return code → index of first occurrence."""
        seen: dict[str, int] = {}
        for i, obj in objs:
            code = _str(obj, "code")
            if code is None:
                continue
            if code in seen:
                first = self.pos.line((*path, seen[code], "code"))
                self.error((*path, i, "code"), f"{label} “{code}” 重复（首次出现在第 {first} 行）")
            else:
                seen[code] = i
        return seen

    # items ---------------------------------------------------------------------------------------

    def check_items(self) -> list[tuple[int, dict[str, Any]]]:
        items = list(_dicts(self.data, "items"))
        first = self.unique(("items",), items, "事项编码")
        self.file_items = {code: (i, obj) for i, obj in items if (code := _str(obj, "code")) and first[code] == i}
        parents = {c for _, obj in items if (c := _str(obj, "parent"))}
        db_nodes = dict(ServiceItem.objects.filter(code__in=parents - set(self.file_items))
                        .values_list("code", "node"))
        for i, item in items:
            self.check_item(i, item, db_nodes)
        self.check_cycles()
        return self.ordered_items(items)

    def check_item(self, i: int, item: dict[str, Any], db_nodes: dict[str, str]) -> None:
        path: Path_ = ("items", i)
        code = _str(item, "code") or "?"
        self.org(item, "competent_department", path)
        self.org(item, "implementing_org", path)
        node = item.get("node", "main")
        parent = _str(item, "parent")
        if parent is not None:
            if parent == code:
                self.error((*path, "parent"), "事项不能以自身为上级事项")
            elif parent not in self.file_items and parent not in db_nodes:
                self.error((*path, "parent"), f"未知的上级事项编码 “{parent}”（文件和数据库中都没有）")
            else:
                parent_node = (self.file_items[parent][1].get("node", "main") if parent in self.file_items
                               else db_nodes[parent])
                if parent_node == "handling":
                    self.error((*path, "parent"), f"上级事项 “{parent}” 是业务办理项，不能再有下级事项")
            if node == "main":
                self.error((*path, "parent"), "主项（node=main）不能有上级事项；子项请设 node 为 sub 或 handling")
        elif node in ("sub", "handling"):
            self.error(path, f"{'子项' if node == 'sub' else '业务办理项'}必须填写上级事项 parent")
        kind = item.get("handling_kind", "")
        if node == "handling" and not kind:
            self.error(path, "业务办理项必须填写办理项类型 handling_kind（new/change/renew/cancel）")
        if node != "handling" and kind:
            self.error((*path, "handling_kind"), "只有业务办理项（node=handling）才有办理项类型")
        statutory, promised = item.get("statutory_limit_days"), item.get("promised_limit_days")
        if isinstance(statutory, int) and isinstance(promised, int) and promised > statutory:
            self.error((*path, "promised_limit_days"),
                       f"承诺时限 {promised} 个工作日超过法定时限 {statutory} 个工作日")
        form_schema = item.get("form_schema")
        if isinstance(form_schema, dict):
            try:
                jsonschema.Draft202012Validator.check_schema(form_schema)
            except jsonschema.SchemaError as exc:
                where = (*path, "form_schema", *exc.absolute_path)
                self.error(where, f"申请表 form_schema 不是有效的 JSON Schema：{exc.message}")
        materials = list(_dicts(item, "materials"))
        known = self.unique((*path, "materials"), materials, "材料编码")
        for j, material in materials:
            mpath = (*path, "materials", j)
            self.org(material, "issuing_department", mpath)
            source = material.get("source", "applicant")
            if source == "issued" and not _str(material, "licence_type"):
                self.error(mpath, "来源为部门核发（issued）的材料须填写电子证照类型 licence_type")
            if source == "shared" and not _str(material, "data_resource"):
                self.error(mpath, "来源为共享数据（shared）的材料须填写共享数据资源 data_resource")
        situations = list(_dicts(item, "situations"))
        self.unique((*path, "situations"), situations, "情形编码")
        for j, situation in situations:
            seen: set[str] = set()
            for k, mcode in _strs(situation, "materials"):
                where = (*path, "situations", j, "materials", k)
                if mcode not in known:
                    self.error(where, f"办理情形引用了事项 {code} 没有的材料编码 “{mcode}”")
                elif mcode in seen:
                    self.error(where, f"材料编码 “{mcode}” 在该情形中重复")
                seen.add(mcode)

    def check_cycles(self) -> None:
        for code, (i, _) in self.file_items.items():
            seen = {code}
            current = code
            while True:
                parent = _str(self.file_items[current][1], "parent")
                if parent is None or parent not in self.file_items or parent == current:
                    break
                if parent in seen:
                    self.error(("items", i, "parent"), f"上级事项形成循环：{code} → … → {parent}")
                    break
                seen.add(parent)
                current = parent

    def ordered_items(self, items: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
        """Items in write order: every parent in the file before its children."""
        done: set[str] = set()
        out: list[tuple[int, dict[str, Any]]] = []

        def visit(code: str, depth: int = 0) -> None:
            if code in done or depth > len(self.file_items):
                return
            done.add(code)
            i, obj = self.file_items[code]
            parent = _str(obj, "parent")
            if parent and parent in self.file_items:
                visit(parent, depth + 1)
            out.append((i, obj))

        for code in self.file_items:
            visit(code)
        return out

    # bundles -------------------------------------------------------------------------------------

    def check_bundles(self) -> list[tuple[int, dict[str, Any]]]:
        bundles = list(_dicts(self.data, "bundles"))
        self.unique(("bundles",), bundles, "一件事编码")
        referenced = {c for _, b in bundles for _, c in _strs(b, "items")}
        in_db = set(ServiceItem.objects.filter(code__in=referenced - set(self.file_items))
                    .values_list("code", flat=True))
        for i, bundle in bundles:
            path: Path_ = ("bundles", i)
            self.org(bundle, "lead_department", path)
            members: set[str] = set()
            for j, code in _strs(bundle, "items"):
                if code not in self.file_items and code not in in_db:
                    self.error((*path, "items", j), f"一件事引用了未知的事项编码 “{code}”")
                elif code in members:
                    self.error((*path, "items", j), f"事项 “{code}” 在一件事中重复")
                members.add(code)
            for j, code in _strs(bundle, "optional_items"):
                if code not in members:
                    self.error((*path, "optional_items", j), f"可选事项 “{code}” 不在该一件事的 items 中")
        return bundles

    # duty lists ----------------------------------------------------------------------------------

    def check_lists(self) -> list[_ListPlan]:
        lists = list(_dicts(self.data, "duty_lists"))
        item_codes = {c for _, d in lists for _, p in _dicts(d, "powers") if (c := _str(p, "item_code"))}
        in_db = set(ServiceItem.objects.filter(code__in=item_codes - set(self.file_items))
                    .values_list("code", flat=True))
        by_org: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        for i, entry in lists:
            path: Path_ = ("duty_lists", i)
            self.org(entry, "organisation", path)
            powers = list(_dicts(entry, "powers"))
            power_codes = set(self.unique((*path, "powers"), powers, "职权编码"))
            for j, power in powers:
                code = _str(power, "item_code")
                if code and code not in self.file_items and code not in in_db:
                    self.error((*path, "powers", j, "item_code"), f"对应事项编码 “{code}” 不存在")
            resps = list(_dicts(entry, "responsibilities"))
            self.unique((*path, "responsibilities"), resps, "责任编码")
            for j, resp in resps:
                power_code = _str(resp, "power_code")
                if power_code is not None and power_code not in power_codes:
                    self.error((*path, "responsibilities", j, "power_code"),
                               f"责任事项对应的职权编码 “{power_code}” 不在本清单的 powers 中")
            org = _str(entry, "organisation")
            if org is not None and org in self.orgs:
                by_org[org].append((i, entry))
        plans = []
        for org, entries in by_org.items():
            plan = self.plan_org(org, entries)
            if plan is not None:
                plans.append(plan)
        return plans

    def plan_org(self, org_code: str, entries: list[tuple[int, dict[str, Any]]]) -> _ListPlan | None:
        previous: tuple[int, dt.date] | None = None  # (index, date) of the previous published entry in the file
        for n, (i, entry) in enumerate(entries):
            date = _date(entry.get("effective_date"))
            if entry.get("publish", True) is False and n < len(entries) - 1:
                self.error(("duty_lists", i, "publish"),
                           f"机构 {org_code} 的草稿版本（publish=false）之后不能再有该机构的其他版本")
            if date is not None and entry.get("publish", True) is not False:
                if previous is not None and date < previous[1]:
                    line = self.pos.line(("duty_lists", previous[0], "effective_date"))
                    self.error(("duty_lists", i, "effective_date"),
                               f"生效日期 {date} 早于同一机构前一版本的生效日期 {previous[1]}（第 {line} 行）")
                previous = (i, date)
        org = Organisation.objects.get(code=org_code)
        existing = list(DutyList.objects.filter(organisation=org).order_by("version")
                        .prefetch_related("powers", "responsibilities"))
        overlap = _overlap([_version_key(d) for d in existing], [_entry_key(e) for _, e in entries])
        new = entries[overlap:]
        if not new:
            return _ListPlan(org_code, [], len(entries))
        i0 = new[0][0]
        draft = next((d for d in existing if d.status == DutyList.Status.DRAFT), None)
        if draft is not None:
            self.error(("duty_lists", i0, "organisation"),
                       f"机构 {org_code} 已有未发布的草稿 v{draft.version}，请先在后台发布或删除该草稿")
        published = [d for d in existing if d.status == DutyList.Status.PUBLISHED and d.effective_date]
        if published:
            last = published[-1]
            for i, entry in new:
                date = _date(entry.get("effective_date"))
                if date is not None and entry.get("publish", True) is not False and date < last.effective_date:
                    self.error(("duty_lists", i, "effective_date"),
                               f"生效日期 {date} 早于机构 {org_code} 已发布的 v{last.version} 的生效日期 "
                               f"{last.effective_date}")
        return _ListPlan(org_code, new, overlap)


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _rows(entry: dict[str, Any]) -> tuple[tuple[tuple[tuple[str, Any], ...], ...], ...]:
    powers = tuple(tuple(formats.normalize_power(p).items()) for _, p in _dicts(entry, "powers"))
    resps = tuple(tuple(formats.normalize_responsibility(r).items()) for _, r in _dicts(entry, "responsibilities"))
    return powers, resps


def _entry_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (_rows(entry), entry.get("publish", True) is not False, _date(entry.get("effective_date")))


def _version_key(duty_list: DutyList) -> tuple[Any, ...]:
    return (_rows(formats.duty_list_to_dict(duty_list)), duty_list.status == DutyList.Status.PUBLISHED,
            duty_list.effective_date)


def _same(existing: tuple[Any, ...], entry: tuple[Any, ...]) -> bool:
    """An entry matches a version when rows and status are equal, and the date too when the entry has one."""
    return existing[:2] == entry[:2] and (entry[2] is None or entry[2] == existing[2])


def _overlap(existing: list[tuple[Any, ...]], entries: list[tuple[Any, ...]]) -> int:
    """The largest k such that the last k existing versions match the first k file entries."""
    for k in range(min(len(existing), len(entries)), 0, -1):
        if all(_same(existing[len(existing) - k + n], entries[n]) for n in range(k)):
            return k
    return 0


def validate_catalog(data: Any, pos: Positions, filename: str) -> tuple[list[Issue], _Plan]:
    """All schema and semantic issues of a parsed document, and the write plan (valid when no issues)."""
    issues = validate_schema(data, pos, filename)
    checker = _Checker(data, pos, filename)
    items = checker.check_items()
    bundles = checker.check_bundles()
    lists = checker.check_lists()
    return sorted(set(issues + checker.issues)), _Plan(items=items, bundles=bundles, lists=lists)


# --- loading ---------------------------------------------------------------------------------------


def load_catalog(path: str | Path, *, actor: User | None = None, dry_run: bool = False, reason: str = "",
                 progress: Progress | None = None, display_name: str | None = None) -> ImportResult:
    """Load a ``tongban-catalog/1`` JSON file. Raises ``CatalogFileError`` (nothing written) on any error."""
    path = Path(path)
    name = display_name or str(path)
    text = _read_text(path, name)
    data, pos = parse_json(text, name)
    return load_catalog_data(data, pos, name, actor=actor, dry_run=dry_run, reason=reason, progress=progress)


def load_catalog_data(data: Any, pos: Positions, filename: str, *, actor: User | None = None,
                      dry_run: bool = False, reason: str = "", progress: Progress | None = None) -> ImportResult:
    issues, plan = validate_catalog(data, pos, filename)
    if issues:
        raise CatalogFileError(issues)
    reason = reason or f"导入 {Path(filename).name}"
    result = ImportResult(file=filename, dry_run=dry_run)
    total = len(plan.items) + len(plan.bundles) + sum(len(p.entries) for p in plan.lists)
    done = 0

    def step(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(what, done, total)

    current: Path_ = ()
    try:
        with transaction.atomic():
            orgs: services.OrgCache = {}
            for i, obj in plan.items:
                current = ("items", i)
                _, status = services.upsert_item(obj, actor=actor, reason=reason, orgs=orgs)
                result.items[status] += 1
                step(obj["code"])
            for i, obj in plan.bundles:
                current = ("bundles", i)
                _, status = services.upsert_bundle(obj, actor=actor, reason=reason, orgs=orgs)
                result.bundles[status] += 1
                step(obj["code"])
            for list_plan in plan.lists:
                result.lists_unchanged += list_plan.unchanged
                org = services.resolve_organisation(list_plan.organisation, orgs)
                for i, entry in list_plan.entries:
                    current = ("duty_lists", i)
                    version = services.create_version(
                        org, powers=[formats.normalize_power(p) for _, p in _dicts(entry, "powers")],
                        responsibilities=[formats.normalize_responsibility(r)
                                          for _, r in _dicts(entry, "responsibilities")],
                        effective_date=_date(entry.get("effective_date")),
                        publish=entry.get("publish", True) is not False, actor=actor,
                        reason=entry.get("change_reason") or reason,
                    )
                    result.versions_created.append((org.code, version.version, str(version.status)))
                    step(f"{org.code} v{version.version}")
            if result.changed:
                audit("catalog.import", actor=actor, reason=reason, object_type="catalog.file",
                      object_id=Path(filename).name[:64], detail=result.as_dict())
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except (CatalogError, DatabaseError) as exc:
        message = exc.message if isinstance(exc, CatalogError) else f"写入数据库失败：{exc}"
        raise CatalogFileError([Issue(filename, pos.line(current), f"{_path_text(current)}: {message}")]) from exc
    return result


# --- power and responsibility lists as CSV / Excel -------------------------------------------------

POWER_COLUMNS: list[tuple[str, str]] = [
    ("code", "职权编码"), ("name", "职权名称"), ("power_type", "职权类型"), ("basis", "实施依据"),
    ("responsible_org", "实施主体"), ("item_code", "对应事项编码"), ("notes", "备注"),
]
RESPONSIBILITY_COLUMNS: list[tuple[str, str]] = [
    ("power_code", "对应职权编码"), ("code", "责任编码"), ("responsibilities", "责任事项"),
    ("accountability", "追责情形"), ("basis", "责任依据"),
]
COLUMNS = {"powers": POWER_COLUMNS, "responsibilities": RESPONSIBILITY_COLUMNS}
REQUIRED_COLUMNS = {"powers": ("code", "name", "power_type", "basis", "responsible_org"),
                    "responsibilities": ("power_code", "code", "responsibilities", "accountability")}
KIND_LABELS = {"powers": "权力清单", "responsibilities": "责任清单"}
_CODE_RE = re.compile(formats.load_schema()["$defs"]["code"]["pattern"])
_TYPE_BY_LABEL = {label: value for value, label in chinese_labels(ItemType).items()}


@dataclass
class _Table:
    kind: str | None
    rows: list[list[str]]  # rows[0] is the header row
    where: str = ""  # "工作表“…”：" for Excel sheets


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()[:10]
    return str(value).strip()


def _kind_from_header(header: list[str]) -> str | None:
    fields = {_column_field(h) for h in header}
    if "power_type" in fields:
        return "powers"
    if "power_code" in fields or "accountability" in fields:
        return "responsibilities"
    return None


def _column_field(header: str) -> str | None:
    h = header.strip().lower()
    for columns in COLUMNS.values():
        for name, label in columns:
            if h in (name, label):
                return name
    return None


def _kind_from_title(title: str) -> str | None:
    t = title.strip().lower()
    for kind, label in KIND_LABELS.items():
        if t in (kind, label) or label in title:
            return kind
    return None


def _read_tables(path: Path, display: str, kind: str | None) -> list[_Table]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CatalogFileError([Issue(display, 0, f"无法读取文件：{exc.strerror or exc}")]) from exc
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes almost anything
            raise CatalogFileError([Issue(display, 1, "无法识别文件编码（请使用 UTF-8）")])
        rows = [[_cell(c) for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
        if not rows:
            raise CatalogFileError([Issue(display, 1, "文件是空的")])
        return [_Table(kind or _kind_from_header(rows[0]), rows)]
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds of errors for a bad file
            raise CatalogFileError([Issue(display, 1, f"无法读取 Excel 文件：{exc}")]) from exc
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
            tables.append(_Table(sheet_kind or kind, rows, where=f"工作表“{sheet.title}”："))
        book.close()
        if issues:
            raise CatalogFileError(issues)
        if not tables:
            raise CatalogFileError([Issue(display, 1, "没有找到权力清单或责任清单工作表")])
        return tables
    raise CatalogFileError([Issue(display, 0, f"不支持的文件类型 “{suffix}”（应为 .json、.csv 或 .xlsx）")])


def _table_entries(table: _Table, display: str) -> tuple[list[dict[str, Any]], list[tuple[int, dict[str, Any]]],
                                                          list[Issue]]:
    """Rows of one table as entry dicts (with their row numbers), and the issues found."""
    issues: list[Issue] = []

    def err(row: int, message: str) -> None:
        issues.append(Issue(display, row, f"{table.where}{message}"))

    if table.kind is None:
        err(1, "无法判断是权力清单还是责任清单：表头应包含“职权类型”（权力清单）或“对应职权编码”（责任清单）")
        return [], [], issues
    header = table.rows[0]
    fields: list[str | None] = []
    for col, name in enumerate(header, start=1):
        f = _column_field(name)
        if name and (f is None or f not in dict(COLUMNS[table.kind])):
            err(1, f"第 {col} 列表头 “{name}” 无法识别")
        if f in fields and f is not None:
            err(1, f"第 {col} 列表头 “{name}” 重复")
        fields.append(f)
    labels = dict(COLUMNS[table.kind])
    missing = [labels[f] for f in REQUIRED_COLUMNS[table.kind] if f not in fields]
    if missing:
        err(1, f"缺少必需的列：{'、'.join(missing)}")
    if issues:
        return [], [], issues
    entries: list[dict[str, Any]] = []
    numbered: list[tuple[int, dict[str, Any]]] = []
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
        if table.kind == "powers" and values.get("power_type"):
            value = values["power_type"]
            if value not in ItemType.values:
                if value in _TYPE_BY_LABEL:
                    values["power_type"] = _TYPE_BY_LABEL[value]
                else:
                    err(number, f"职权类型 “{value}” 无效，应为：{'、'.join(_TYPE_BY_LABEL)}")
        entry = (formats.normalize_power if table.kind == "powers" else formats.normalize_responsibility)(values)
        entries.append(entry)
        numbered.append((number, entry))
    return entries, numbered, issues


def load_list_table(path: str | Path, *, organisation: str, kind: str | None = None,
                    effective_date: dt.date | None = None, publish: bool = True, actor: User | None = None,
                    reason: str = "", dry_run: bool = False, display_name: str | None = None) -> ImportResult:
    """Load a power list and/or responsibility list (CSV: one list per file; Excel: one sheet per list).

    The new version holds the file's lists, and the organisation's latest version for a list the file lacks.
    A file equal to the latest version creates nothing.
    """
    path = Path(path)
    display = display_name or str(path)
    tables = _read_tables(path, display, kind)
    org = Organisation.objects.filter(code=organisation).first()
    if org is None:
        raise CatalogFileError([Issue(display, 1, f"未知的机构编码 “{organisation}”（--organisation）")])
    found: dict[str, tuple[_Table, list[dict[str, Any]], list[tuple[int, dict[str, Any]]]]] = {}
    issues: list[Issue] = []
    unreadable = False  # a table whose header is wrong: its rows cannot be checked against the others
    for table in tables:
        entries, numbered, table_issues = _table_entries(table, display)
        issues += table_issues
        if any(i.line == 1 for i in table_issues):
            unreadable = True
        elif table.kind in found:
            issues.append(Issue(display, 1, f"{table.where}文件中有两份{KIND_LABELS[table.kind]}"))
        elif table.kind is not None:
            found[table.kind] = (table, entries, numbered)
    latest = DutyList.objects.filter(organisation=org).order_by("-version").first()
    powers = found["powers"][1] if "powers" in found else (
        [formats.power_to_dict(p) for p in latest.powers.all()] if latest else [])
    resps = found["responsibilities"][1] if "responsibilities" in found else (
        [formats.responsibility_to_dict(r) for r in latest.responsibilities.all()] if latest else [])
    power_codes = {p["code"] for p in powers}
    if unreadable:
        raise CatalogFileError(issues)
    if "responsibilities" in found:
        table, _, numbered = found["responsibilities"]
        for number, entry in numbered:
            if entry["power_code"] and entry["power_code"] not in power_codes:
                issues.append(Issue(display, number, f"{table.where}对应职权编码 “{entry['power_code']}” "
                                                     f"不在{'本文件的权力清单' if 'powers' in found else '现行权力清单'}中"))
    elif "powers" in found and latest is not None:
        table = found["powers"][0]
        orphans = sorted({r["power_code"] for r in resps if r["power_code"] not in power_codes})
        if orphans:
            issues.append(Issue(display, 1, f"{table.where}现行责任清单引用的职权 {'、'.join(orphans)} "
                                            "不在新的权力清单中；请同时导入责任清单"))
    if latest is not None and latest.status == DutyList.Status.DRAFT:
        issues.append(Issue(display, 1, f"机构 {org.code} 已有未发布的草稿 v{latest.version}，请先发布或删除该草稿"))
    if publish:
        date = effective_date or timezone.localdate()
        last = (DutyList.objects.filter(organisation=org, status=DutyList.Status.PUBLISHED)
                .order_by("-version").first())
        if last is not None and last.effective_date and date < last.effective_date:
            issues.append(Issue(display, 1, f"生效日期 {date} 早于已发布的 v{last.version} 的生效日期 "
                                            f"{last.effective_date}（请用 --effective-date 指定）"))
    if issues:
        raise CatalogFileError(issues)
    result = ImportResult(file=display, dry_run=dry_run)
    if latest is not None and (powers, resps) == (
        [formats.power_to_dict(p) for p in latest.powers.all()],
        [formats.responsibility_to_dict(r) for r in latest.responsibilities.all()],
    ):
        result.lists_unchanged = 1
        return result
    reason = reason or f"导入 {path.name}"
    try:
        with transaction.atomic():
            version = services.create_version(
                org, powers=powers if "powers" in found else None,
                responsibilities=resps if "responsibilities" in found else None,
                effective_date=effective_date or (timezone.localdate() if publish else None), publish=publish,
                actor=actor, reason=reason,
            )
            result.versions_created.append((org.code, version.version, str(version.status)))
            audit("catalog.import", actor=actor, reason=reason, object_type="catalog.file",
                  object_id=path.name[:64], detail=result.as_dict())
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except CatalogError as exc:
        raise CatalogFileError([Issue(display, 1, exc.message)]) from exc
    return result


def load_file(path: str | Path, *, organisation: str | None = None, **options: Any) -> ImportResult:
    """Load any supported file: ``.json`` catalogue, or ``.csv``/``.xlsx`` lists (needs ``organisation``)."""
    path = Path(path)
    display = options.pop("display_name", None) or str(path)
    if path.suffix.lower() == ".json":
        for key in ("kind", "effective_date", "publish"):
            options.pop(key, None)
        return load_catalog(path, display_name=display, **options)
    if path.suffix.lower() in (".csv", ".xlsx", ".xlsm"):
        options.pop("progress", None)
        if not organisation:
            raise CatalogFileError([Issue(display, 0, "导入 CSV/Excel 清单需要指定机构：--organisation ORG")])
        return load_list_table(path, organisation=organisation, display_name=display, **options)
    raise CatalogFileError([Issue(display, 0, f"不支持的文件类型 “{path.suffix}”（应为 .json、.csv 或 .xlsx）")])


# --- exports ---------------------------------------------------------------------------------------


def export_catalog_json() -> str:
    return json.dumps(selectors.export_catalog(), ensure_ascii=False, indent=2) + "\n"


def list_rows(duty_list: DutyList, kind: str) -> list[list[str]]:
    """A header row (Chinese labels) and one row per entry; power types as their Chinese names."""
    columns = COLUMNS[kind]
    rows = [[label for _, label in columns]]
    if kind == "powers":
        labels = chinese_labels(ItemType)
        for p in duty_list.powers.all():
            d = formats.power_to_dict(p)
            d["power_type"] = labels.get(d["power_type"], d["power_type"])
            rows.append([d[f] for f, _ in columns])
    else:
        rows += [[formats.responsibility_to_dict(r)[f] for f, _ in columns] for r in duty_list.responsibilities.all()]
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
