"""Import of a benchmark table (裁量基准表) from YAML (or JSON) or CSV: validated in full first, then applied in one
transaction; any problem refuses the whole table with errors naming the row and the field, and nothing changes.

YAML::

    factors:                      # optional; item: a code limits a factor to one item
      - {code: first_offence, kind: exempt_first, fact: first_offence, description: ..., legal_basis: ...}
    items:
      - code: SP-122
        name: 未取得食品经营许可从事食品经营活动
        department: scjg                # an organisation code
        law: 中华人民共和国食品安全法
        article: 第一百二十二条第一款
        basis_text: ...
        measure: goods_value
        measure_label: 货值金额（元）
        step_limits: {filing: 5, investigate: 30}
        levels:
          - {level: minor, facts: ..., measure_from: 0, measure_to: 2000, penalties: [confiscate_income, fine],
             fine_min: "50000", fine_max: "60000", law_min: "50000", law_max: "100000"}

CSV: one row per level with the columns ``item, name, department, law, article, basis_text, measure,
measure_label, level, facts, measure_from, measure_to, conditions (k=v;k=v), penalties (a;b), fine_min,
fine_max, law_min, law_max``. A row with only ``item`` (no ``name``) adds levels to an existing item. A table
replaces the levels of every item it names.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from tongban.core.models import Organisation

from .discretion import amount, parse_amount
from .errors import BenchmarkImportError
from .models import BenchmarkLevel, EnforcementItem, Factor, FactorKind, Level, PenaltyKind

ITEM_FIELDS = ("name", "department", "law", "article", "basis_text", "penalty_basis", "measure", "measure_label")
LEVELS = set(Level.values)
KINDS = set(PenaltyKind.values)
STEPS = ("filing", "investigate", "legal_review", "notify", "hearing", "decide", "serve", "execute", "close")


@dataclass
class _Level:
    row: str
    level: str
    facts: str
    measure_from: Decimal
    measure_to: Decimal | None
    conditions: dict[str, Any]
    penalties: list[str]
    fine_min: str
    fine_max: str
    law_min: str
    law_max: str


@dataclass
class _Item:
    row: str
    code: str
    fields: dict[str, Any] = field(default_factory=dict)
    step_limits: dict[str, int] | None = None
    levels: list[_Level] = field(default_factory=list)
    department: Organisation | None = None


@dataclass
class ImportResult:
    items: int
    levels: int
    factors: int


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, row: str, fld: str, message: str) -> None:
        self.items.append({"row": row, "field": fld, "message": message})


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidOperation
    result = Decimal(str(value).strip())
    if not result.is_finite():
        raise InvalidOperation
    return result


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _level(row: str, data: Any, problems: _Problems) -> _Level | None:
    if not isinstance(data, dict):
        problems.add(row, "level", "等级必须是对象")
        return None
    before = len(problems.items)
    level = _text(data.get("level"))
    if level not in LEVELS:
        problems.add(row, "level", f"情节等级“{level}”未知，应为 {', '.join(LEVELS_ORDER)}")
    facts = _text(data.get("facts"))
    if not facts:
        problems.add(row, "facts", "请填写违法情节")
    lo = Decimal(0)
    try:
        lo = _decimal(data.get("measure_from", 0) if data.get("measure_from") not in (None, "") else 0)
        if lo < 0:
            problems.add(row, "measure_from", "事实下限不能为负数")
    except InvalidOperation:
        problems.add(row, "measure_from", f"事实下限“{data.get('measure_from')}”不是数值")
    hi: Decimal | None = None
    if data.get("measure_to") not in (None, ""):
        try:
            hi = _decimal(data["measure_to"])
            if hi <= lo:
                problems.add(row, "measure_to", f"区间颠倒：事实上限 {hi} 不大于下限 {lo}")
        except InvalidOperation:
            problems.add(row, "measure_to", f"事实上限“{data['measure_to']}”不是数值")
    conditions = data.get("conditions") or {}
    if isinstance(conditions, str):
        conditions = _parse_conditions(conditions, row, problems)
    if not isinstance(conditions, dict):
        problems.add(row, "conditions", "其他情节条件必须是 字段: 值 的对象")
        conditions = {}
    penalties = data.get("penalties") or data.get("penalty_kinds") or []
    if isinstance(penalties, str):
        penalties = [p.strip() for p in penalties.replace("；", ";").split(";") if p.strip()]
    if not isinstance(penalties, list) or not penalties:
        problems.add(row, "penalties", "请填写处罚种类")
        penalties = []
    for kind in penalties:
        if kind not in KINDS:
            problems.add(row, "penalties", f"处罚种类“{kind}”未知，应为 {', '.join(sorted(KINDS))}")
    specs = {}
    for name in ("fine_min", "fine_max", "law_min", "law_max"):
        spec = _text(data.get(name))
        if spec:
            try:
                parse_amount(spec)
            except ValueError as exc:
                problems.add(row, name, str(exc))
                spec = ""
        specs[name] = spec
    if PenaltyKind.FINE in penalties and not (specs["fine_min"] and specs["fine_max"]):
        problems.add(row, "fine_min" if not specs["fine_min"] else "fine_max", "处罚种类含罚款时须填写罚款幅度")
    if len(problems.items) > before:
        return None
    result = _Level(row, level, facts, lo, hi, conditions, penalties, **specs)
    _check_amounts(result, problems)
    return result


LEVELS_ORDER = [lv.value for lv in Level]


def _parse_conditions(text: str, row: str, problems: _Problems) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for part in text.replace("；", ";").split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            problems.add(row, "conditions", f"条件“{part}”应写作 字段=值")
            continue
        key, value = (s.strip() for s in part.split("=", 1))
        try:
            result[key] = json.loads(value)
        except ValueError:
            result[key] = value
    return result


def _check_amounts(lv: _Level, problems: _Problems) -> None:
    """Inverted fine ranges and benchmark ranges outside the statute, at both ends of the level's facts."""
    points = [lv.measure_from] + ([lv.measure_to] if lv.measure_to is not None else [])
    for at in points:
        lo, hi = amount(lv.fine_min, at), amount(lv.fine_max, at)
        law_lo, law_hi = amount(lv.law_min, at), amount(lv.law_max, at)
        where = f"（事实 = {at}）" if len(points) > 1 or any("x" in s.lower() for s in (lv.fine_min, lv.fine_max)) else ""
        if lo is not None and hi is not None and lo > hi:
            problems.add(lv.row, "fine_max", f"区间颠倒：罚款上限 {hi} 小于下限 {lo}{where}")
            return
        if law_lo is not None and law_hi is not None and law_lo > law_hi:
            problems.add(lv.row, "law_max", f"区间颠倒：法定上限 {law_hi} 小于法定下限 {law_lo}{where}")
            return
        if lo is not None and law_lo is not None and lo < law_lo:
            problems.add(lv.row, "fine_min", f"罚款下限 {lo} 低于法定下限 {law_lo}{where}")
            return
        if hi is not None and law_hi is not None and hi > law_hi:
            problems.add(lv.row, "fine_max", f"罚款上限 {hi} 高于法定上限 {law_hi}{where}")
            return


def _check_levels(item: _Item, problems: _Problems) -> None:
    """Overlapping ranges (among levels with the same extra conditions) and gaps of the base levels (facts that
    would match no level)."""
    label = item.fields.get("measure_label") or item.code
    groups: dict[str, list[_Level]] = {}
    for lv in item.levels:
        groups.setdefault(json.dumps(lv.conditions, sort_keys=True, ensure_ascii=False), []).append(lv)
    for key, levels in groups.items():
        levels.sort(key=lambda lv: lv.measure_from)
        for prev, nxt in zip(levels, levels[1:], strict=False):
            if prev.measure_to is None or nxt.measure_from < prev.measure_to:
                problems.add(nxt.row, "measure_from",
                             f"区间重叠：{label} [{nxt.measure_from}, {_end(nxt.measure_to)}) 与 {prev.row} 的 "
                             f"[{prev.measure_from}, {_end(prev.measure_to)}) 重叠")
        if key != "{}":
            continue
        if levels[0].measure_from > 0:
            problems.add(levels[0].row, "measure_from",
                         f"{label} 在 [0, {levels[0].measure_from}) 的情节不符合任何等级")
        for prev, nxt in zip(levels, levels[1:], strict=False):
            if prev.measure_to is not None and nxt.measure_from > prev.measure_to:
                problems.add(nxt.row, "measure_from",
                             f"{label} 在 [{prev.measure_to}, {nxt.measure_from}) 的情节不符合任何等级")
        if levels[-1].measure_to is not None:
            problems.add(levels[-1].row, "measure_to",
                         f"{label} 不小于 {levels[-1].measure_to} 的情节不符合任何等级（最后一级的上限应留空）")
    if item.levels and "{}" not in groups:
        problems.add(item.row, "levels", "须有不带附加条件的等级覆盖全部情节（否则有的情节不符合任何等级）")


def _end(value: Decimal | None) -> str:
    return "∞" if value is None else str(value)


def _item(row: str, data: dict[str, Any], problems: _Problems, known: dict[str, EnforcementItem]) -> _Item | None:
    code = _text(data.get("item") or data.get("code"))
    if not code:
        problems.add(row, "code", "请填写违法行为编码")
        return None
    item = _Item(row, code)
    if not _text(data.get("name")):
        if code not in known:
            problems.add(row, "item", f"未知的执法事项“{code}”（既不在表中定义，也不在平台中）")
            return None
        return item
    for name in ITEM_FIELDS:
        if name in data:
            item.fields[name] = _text(data.get(name))
    for name in ("name", "law", "article", "measure", "measure_label"):
        if not item.fields.get(name):
            problems.add(row, name, "必填")
    dept = item.fields.pop("department", "")
    if dept:
        item.department = Organisation.objects.filter(code=dept).first()
        if item.department is None:
            problems.add(row, "department", f"机构“{dept}”不存在")
    limits = data.get("step_limits")
    if limits not in (None, ""):
        if not isinstance(limits, dict):
            problems.add(row, "step_limits", "各环节时限必须是 环节: 工作日 的对象")
        else:
            for step, days in limits.items():
                if step not in STEPS:
                    problems.add(row, "step_limits", f"未知环节“{step}”，应为 {', '.join(STEPS)}")
                elif isinstance(days, bool) or not isinstance(days, int) or days <= 0:
                    problems.add(row, "step_limits", f"环节“{step}”的时限必须是正整数（工作日）")
            item.step_limits = {str(k): v for k, v in limits.items()}
    return item


def _factor(row: str, data: Any, problems: _Problems, codes: set[str]) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        problems.add(row, "factor", "裁量因素必须是对象")
        return None
    out = {k: _text(data.get(k)) for k in ("code", "kind", "fact", "description", "legal_basis", "item")}
    for name in ("code", "fact", "description", "legal_basis"):
        if not out[name]:
            problems.add(row, name, "必填")
    if out["kind"] not in FactorKind.values:
        problems.add(row, "kind", f"裁量因素类型“{out['kind']}”未知，应为 {', '.join(FactorKind.values)}")
    if out["item"] and out["item"] not in codes:
        problems.add(row, "item", f"未知的执法事项“{out['item']}”")
    return out


def parse(text: str, fmt: str) -> tuple[list[_Item], list[dict[str, Any]]]:
    """Validate a table; raises :class:`BenchmarkImportError` naming every problem (row and field)."""
    problems = _Problems()
    known = {i.code: i for i in EnforcementItem.objects.all()}
    items: list[_Item] = []
    factors_raw: list[tuple[str, Any]] = []
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        by_code: dict[str, _Item] = {}
        for n, record in enumerate(reader, start=2):
            row = f"第{n}行"
            data = {k.strip(): v for k, v in record.items() if k}
            code = _text(data.get("item"))
            item = by_code.get(code)
            if item is None:
                item = _item(row, data, problems, known)
                if item is None:
                    continue
                by_code[code] = item
                items.append(item)
            level = _level(row, data, problems)
            if level:
                item.levels.append(level)
        if not items and not problems.items:
            problems.add("第1行", "item", "表中没有任何等级（需要表头 item,name,...,level,...）")
    else:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"第{mark.line + 1}行" if mark is not None else "文件"
            raise BenchmarkImportError([{"row": where, "field": "-", "message": f"YAML 格式错误：{exc}"}]) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("items", []), list):
            raise BenchmarkImportError([{"row": "文件", "field": "items", "message": "须为含 items 列表的对象"}])
        for n, data in enumerate(doc.get("items") or []):
            row = f"items[{n}]"
            if not isinstance(data, dict):
                problems.add(row, "item", "执法事项必须是对象")
                continue
            code = _text(data.get("code") or data.get("item"))
            row = f"items[{n}]（{code}）" if code else row
            item = _item(row, data, problems, known)
            if item is None:
                continue
            levels = data.get("levels") or []
            if not isinstance(levels, list):
                problems.add(row, "levels", "levels 必须是列表")
                levels = []
            for m, lv in enumerate(levels):
                level = _level(f"{row}.levels[{m}]", lv, problems)
                if level:
                    item.levels.append(level)
            items.append(item)
        factors_raw = [(f"factors[{n}]", f) for n, f in enumerate(doc.get("factors") or [])]
    seen: dict[str, str] = {}
    for item in items:
        if item.code in seen:
            problems.add(item.row, "code", f"违法行为编码“{item.code}”与 {seen[item.code]} 重复")
        seen[item.code] = item.row
        if item.fields and not item.levels:
            problems.add(item.row, "levels", "请至少填写一个情节等级")
        if item.levels:
            _check_levels(item, problems)
    codes = set(known) | set(seen)
    factors = [f for f in (_factor(row, data, problems, codes) for row, data in factors_raw) if f]
    if problems.items:
        raise BenchmarkImportError(problems.items)
    return items, factors


def import_table(text: str, fmt: str = "yaml", *, actor: Any = None, source: str = "") -> ImportResult:
    """Validate and apply a benchmark table (all or nothing)."""
    from tongban.core.services import audit

    items, factors = parse(text, fmt)
    n_levels = 0
    with transaction.atomic():
        for spec in items:
            defaults: dict[str, Any] = dict(spec.fields)
            if spec.fields:
                defaults["department"] = spec.department
            if spec.step_limits is not None:
                defaults["step_limits"] = spec.step_limits
            item, _ = EnforcementItem.objects.update_or_create(code=spec.code, defaults=defaults)
            if spec.levels:
                item.levels.all().delete()
                BenchmarkLevel.objects.bulk_create([
                    BenchmarkLevel(item=item, level=lv.level, facts=lv.facts, measure_from=lv.measure_from,
                                   measure_to=lv.measure_to, conditions=lv.conditions, penalty_kinds=lv.penalties,
                                   fine_min=lv.fine_min, fine_max=lv.fine_max, law_min=lv.law_min,
                                   law_max=lv.law_max, position=n)
                    for n, lv in enumerate(spec.levels)])
                n_levels += len(spec.levels)
        for f in factors:
            owner = EnforcementItem.objects.get(code=f["item"]) if f["item"] else None
            Factor.objects.update_or_create(code=f["code"], defaults={
                "item": owner, "kind": f["kind"], "fact": f["fact"], "description": f["description"],
                "legal_basis": f["legal_basis"]})
        audit("enforcement.benchmark_import", actor=actor, object_type="enforcement.benchmark",
              detail={"source": source, "items": [i.code for i in items], "levels": n_levels,
                      "factors": len(factors)})
    return ImportResult(len(items), n_levels, len(factors))


def import_file(path: Path | str, *, actor: Any = None) -> ImportResult:
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchmarkImportError([{"row": str(path), "field": "-", "message": f"无法读取文件：{exc}"}]) from None
    fmt = "csv" if path.suffix.lower() == ".csv" else "yaml"
    return import_table(text, fmt, actor=actor, source=str(path))
