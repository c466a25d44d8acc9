"""Validation of a parsed catalogue file: its schema, then its meaning; the result is a write plan.

Every problem is collected (not just the first) as an :class:`Issue` at the line of the offending value,
of the key for a key that is not allowed, or of the object for a missing key. The plan lists the items
(parents first), bundles and new duty list versions to write; it is valid only when there is no issue.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import jsonschema

from tongban.core import schema_messages
from tongban.core.models import Organisation
from tongban.core.schema_messages import path_text

from .. import formats
from ..models import DutyList, ServiceItem
from .issues import Issue
from .parser import Path_, Positions

T = TypeVar("T")


# --- schema ----------------------------------------------------------------------------------------


def validate_schema(data: Any, pos: Positions, filename: str) -> list[Issue]:
    """Every schema error of ``data``, each at the line of the offending value (or key, or object)."""
    validator = jsonschema.Draft202012Validator(formats.load_schema(),
                                                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    issues = []
    for p in schema_messages.problems(validator, data):
        if p.validator == "required":  # at the object that lacks the key
            where, line = p.path[:-1], pos.line(p.path[:-1])
        elif p.validator == "additionalProperties":  # at the key that is not allowed
            where, line = p.path, pos.key_line(p.path)
        else:
            where, line = p.path, pos.line(p.path)
        issues.append(Issue(filename, line, f"{path_text(where)}: {p.message}"))
    return issues


# --- meaning ---------------------------------------------------------------------------------------


def elements(data: Any, key: str, kind: type[T]) -> Iterator[tuple[int, T]]:
    """``(index, element)`` of the list ``data[key]`` for the elements of type ``kind`` (others are schema
    errors, reported already)."""
    seq = data.get(key) if isinstance(data, dict) else None
    if isinstance(seq, list):
        for i, v in enumerate(seq):
            if isinstance(v, kind):
                yield i, v


def dicts(data: Any, key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    return elements(data, key, dict)


def _str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def _strs(obj: dict[str, Any], key: str) -> Iterator[tuple[int, str]]:
    return elements(obj, key, str)


@dataclass
class ListPlan:
    organisation: str
    entries: list[tuple[int, dict[str, Any]]]  # (index in duty_lists, entry) to create, in order
    unchanged: int


@dataclass
class Plan:
    items: list[tuple[int, dict[str, Any]]]  # parents first
    bundles: list[tuple[int, dict[str, Any]]]
    lists: list[ListPlan]


class _Checker:
    """Semantic checks of a schema-checked (or partly invalid) document; collects issues with lines."""

    def __init__(self, data: Any, pos: Positions, filename: str) -> None:
        self.data, self.pos, self.file = data, pos, filename
        self.issues: list[Issue] = []
        self.orgs = set(Organisation.objects.values_list("code", flat=True))
        self.file_items: dict[str, tuple[int, dict[str, Any]]] = {}

    def error(self, path: Path_, message: str) -> None:
        self.issues.append(Issue(self.file, self.pos.line(path), f"{path_text(path)}: {message}"))

    def known_items(self, codes: set[str]) -> set[str]:
        """Those of ``codes`` that are items of the file or of the database."""
        in_file = codes & set(self.file_items)
        return in_file | set(ServiceItem.objects.filter(code__in=codes - in_file).values_list("code", flat=True))

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
        items = list(dicts(self.data, "items"))
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
        self.org(item, "reviewing_org", path)
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
        materials = list(dicts(item, "materials"))
        known = self.unique((*path, "materials"), materials, "材料编码")
        for j, material in materials:
            mpath = (*path, "materials", j)
            self.org(material, "issuing_department", mpath)
            source = material.get("source", "applicant")
            if source == "issued" and not _str(material, "licence_type"):
                self.error(mpath, "来源为部门核发（issued）的材料须填写电子证照类型 licence_type")
            if source == "shared" and not _str(material, "data_resource"):
                self.error(mpath, "来源为共享数据（shared）的材料须填写共享数据资源 data_resource")
        situations = list(dicts(item, "situations"))
        self.unique((*path, "situations"), situations, "情形编码")
        self.check_guide(item, situations, path)
        for j, situation in situations:
            seen: set[str] = set()
            for k, mcode in _strs(situation, "materials"):
                where = (*path, "situations", j, "materials", k)
                if mcode not in known:
                    self.error(where, f"办理情形引用了事项 {code} 没有的材料编码 “{mcode}”")
                elif mcode in seen:
                    self.error(where, f"材料编码 “{mcode}” 在该情形中重复")
                seen.add(mcode)

    def check_guide(self, item: dict[str, Any], situations: list[tuple[int, dict[str, Any]]],
                    path: tuple[Any, ...]) -> None:
        """Every guide key is a condition key of a situation, every worded answer one of its values, and no two
        keys ask the same question."""
        guide = item.get("guide")
        if not isinstance(guide, dict):
            return
        values: dict[str, set[str]] = {}
        for _, situation in situations:
            conditions = situation.get("conditions")
            for key, value in (conditions.items() if isinstance(conditions, dict) else []):
                values.setdefault(key, set()).update(str(a) for a in (value if isinstance(value, list) else [value]))
        asked: dict[str, str] = {}
        for key, entry in guide.items():
            where = (*path, "guide", key)
            if key not in values:
                self.error(where, f"引导键 “{key}” 不是任何办理情形的适用条件")
                continue
            if not isinstance(entry, dict):
                continue
            question = str(entry.get("question") or "").strip()
            if question in asked:
                self.error((*where, "question"), f"问题 “{question}” 与引导键 “{asked[question]}” 重复")
            asked[question] = key
            for answer in (entry.get("answers") or {}):
                if answer not in values[key]:
                    self.error((*where, "answers", answer),
                               f"答案 “{answer}” 不是引导键 “{key}” 的取值（{'、'.join(sorted(values[key]))}）")

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
        bundles = list(dicts(self.data, "bundles"))
        self.unique(("bundles",), bundles, "一件事编码")
        referenced = {c for _, b in bundles for _, c in _strs(b, "items")}
        known = self.known_items(referenced)
        for i, bundle in bundles:
            path: Path_ = ("bundles", i)
            self.org(bundle, "lead_department", path)
            members: set[str] = set()
            for j, code in _strs(bundle, "items"):
                if code not in known:
                    self.error((*path, "items", j), f"一件事引用了未知的事项编码 “{code}”")
                elif code in members:
                    self.error((*path, "items", j), f"事项 “{code}” 在一件事中重复")
                members.add(code)
            for j, code in _strs(bundle, "optional_items"):
                if code not in members:
                    self.error((*path, "optional_items", j), f"可选事项 “{code}” 不在该一件事的 items 中")
        return bundles

    # duty lists ----------------------------------------------------------------------------------

    def check_lists(self) -> list[ListPlan]:
        lists = list(dicts(self.data, "duty_lists"))
        item_codes = {c for _, d in lists for _, p in dicts(d, "powers") if (c := _str(p, "item_code"))}
        known = self.known_items(item_codes)
        by_org: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        for i, entry in lists:
            path: Path_ = ("duty_lists", i)
            self.org(entry, "organisation", path)
            powers = list(dicts(entry, "powers"))
            power_codes = set(self.unique((*path, "powers"), powers, "职权编码"))
            for j, power in powers:
                code = _str(power, "item_code")
                if code and code not in known:
                    self.error((*path, "powers", j, "item_code"), f"对应事项编码 “{code}” 不存在")
            resps = list(dicts(entry, "responsibilities"))
            self.unique((*path, "responsibilities"), resps, "责任编码")
            for j, resp in resps:
                power_code = _str(resp, "power_code")
                if power_code is not None and power_code not in power_codes:
                    self.error((*path, "responsibilities", j, "power_code"),
                               f"责任事项对应的职权编码 “{power_code}” 不在本清单的 powers 中")
            org = _str(entry, "organisation")
            if org is not None and org in self.orgs:
                by_org[org].append((i, entry))
        return [self.plan_org(org, entries) for org, entries in by_org.items()]

    def plan_org(self, org_code: str, entries: list[tuple[int, dict[str, Any]]]) -> ListPlan:
        previous: tuple[int, dt.date] | None = None  # (index, date) of the previous published entry in the file
        for n, (i, entry) in enumerate(entries):
            date = date_of(entry.get("effective_date"))
            if not publishes(entry) and n < len(entries) - 1:
                self.error(("duty_lists", i, "publish"),
                           f"机构 {org_code} 的草稿版本（publish=false）之后不能再有该机构的其他版本")
            if date is not None and publishes(entry):
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
            return ListPlan(org_code, [], len(entries))
        i0 = new[0][0]
        draft = next((d for d in existing if d.status == DutyList.Status.DRAFT), None)
        if draft is not None:
            self.error(("duty_lists", i0, "organisation"),
                       f"机构 {org_code} 已有未发布的草稿 v{draft.version}，请先在后台发布或删除该草稿")
        published = [d for d in existing if d.status == DutyList.Status.PUBLISHED and d.effective_date]
        if published:
            last = published[-1]
            for i, entry in new:
                date = date_of(entry.get("effective_date"))
                if date is not None and publishes(entry) and date < last.effective_date:
                    self.error(("duty_lists", i, "effective_date"),
                               f"生效日期 {date} 早于机构 {org_code} 已发布的 v{last.version} 的生效日期 "
                               f"{last.effective_date}")
        return ListPlan(org_code, new, overlap)


def date_of(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def publishes(entry: dict[str, Any]) -> bool:
    """A ``duty_lists`` entry is published unless it says ``"publish": false`` (a draft)."""
    return entry.get("publish", True) is not False


def entry_lists(entry: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The powers and responsibilities of a ``duty_lists`` entry, in their complete form."""
    return ([formats.normalize_power(p) for _, p in dicts(entry, "powers")],
            [formats.normalize_responsibility(r) for _, r in dicts(entry, "responsibilities")])


def _entry_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry_lists(entry), publishes(entry), date_of(entry.get("effective_date")))


def _version_key(duty_list: DutyList) -> tuple[Any, ...]:
    return (entry_lists(formats.duty_list_to_dict(duty_list)), duty_list.status == DutyList.Status.PUBLISHED,
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


def validate_catalog(data: Any, pos: Positions, filename: str) -> tuple[list[Issue], Plan]:
    """All schema and semantic issues of a parsed document, and the write plan (valid when no issues)."""
    issues = validate_schema(data, pos, filename)
    checker = _Checker(data, pos, filename)
    items = checker.check_items()
    bundles = checker.check_bundles()
    lists = checker.check_lists()
    return sorted(set(issues + checker.issues)), Plan(items=items, bundles=bundles, lists=lists)


