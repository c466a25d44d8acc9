"""The indicator file: parse and check it, and keep its versions (like the catalogue: a changed file loads as
a new version; loading an identical file changes nothing).

The shipped file is ``definitions.yaml`` beside this module; a city points ``TONGBAN_INSIGHT_INDICATORS`` at its
own copy (see the README's configuration table) or loads one with ``tongban insight load-indicators FILE``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction

from ..errors import BadDefinitions
from . import formula as formulas

SHIPPED = Path(__file__).with_name("definitions.yaml")
AGGREGATES = ("count", "sum", "avg", "count_distinct", "min", "max")
TIME_KINDS = ("datetime", "date", "none")
DIRECTIONS = ("higher", "lower")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Fact:
    name: str
    label: str
    time: str
    sql: str


@dataclass(frozen=True)
class Measure:
    name: str
    fact: str
    agg: str
    expr: str


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    dimension: str
    definition: str
    formula: str
    unit: str
    direction: str
    target: float | None
    drill: str
    measures: tuple[str, ...]
    fact: str  # the fact of the formula's first measure (the drill-down's rows)
    tolerated: str = ""  # 容错纠错: SQL condition selecting the records left out by an accepted determination


@dataclass(frozen=True)
class Definitions:
    version: int | None
    sha256: str
    parameters: dict[str, float | int]
    dimensions: dict[str, str]
    facts: dict[str, Fact]
    measures: dict[str, Measure]
    indicators: tuple[Indicator, ...]
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def indicator(self, indicator_id: str) -> Indicator | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)


def _need(mapping: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    if key not in mapping:
        raise BadDefinitions(f"{where}: 缺少 {key}", detail={"where": where, "field": key})
    value = mapping[key]
    if not isinstance(value, kind):
        raise BadDefinitions(f"{where}: {key} 的类型不对", detail={"where": where, "field": key})
    return value


def parse(data: Any, *, sha256: str = "", version: int | None = None) -> Definitions:
    """Check the structure and the cross-references (measure → fact, formula → measures); refuse with the
    indicator or measure named."""
    if not isinstance(data, dict):
        raise BadDefinitions("指标文件应为一个映射（parameters、dimensions、facts、measures、indicators）")
    params = data.get("parameters") or {}
    for k, v in params.items():
        if not _ID.match(str(k)) or not isinstance(v, (int, float)) or isinstance(v, bool):
            raise BadDefinitions(f"参数 {k} 必须是数字", detail={"where": f"parameters.{k}"})
    dimensions = _need(data, "dimensions", "dimensions", dict)
    facts: dict[str, Fact] = {}
    for name, spec in _need(data, "facts", "facts", dict).items():
        where = f"facts.{name}"
        if not _ID.match(name) or not isinstance(spec, dict):
            raise BadDefinitions(f"{where}: 名称或内容不对", detail={"where": where})
        time = _need(spec, "time", where)
        if time not in TIME_KINDS:
            raise BadDefinitions(f"{where}: time 须为 {'、'.join(TIME_KINDS)}", detail={"where": where})
        facts[name] = Fact(name, str(spec.get("label", name)), time, _need(spec, "sql", where))
    measures: dict[str, Measure] = {}
    for name, spec in _need(data, "measures", "measures", dict).items():
        where = f"measures.{name}"
        if not _ID.match(name) or not isinstance(spec, dict):
            raise BadDefinitions(f"{where}: 名称或内容不对", detail={"where": where})
        fact, agg = _need(spec, "fact", where), _need(spec, "agg", where)
        if fact not in facts:
            raise BadDefinitions(f"{where}: 未定义的事实 {fact}", detail={"where": where})
        if agg not in AGGREGATES:
            raise BadDefinitions(f"{where}: agg 须为 {'、'.join(AGGREGATES)}", detail={"where": where})
        expr = str(spec.get("expr", "")).strip()
        if agg != "count" and not expr:
            raise BadDefinitions(f"{where}: {agg} 需要 expr", detail={"where": where})
        measures[name] = Measure(name, fact, agg, expr)
    indicators: list[Indicator] = []
    for n, spec in enumerate(_need(data, "indicators", "indicators", list)):
        where = f"indicators[{n}]"
        if not isinstance(spec, dict):
            raise BadDefinitions(f"{where}: 应为映射", detail={"where": where})
        iid = _need(spec, "id", where)
        where = f"indicators.{iid}"
        if not _ID.match(iid) or any(i.id == iid for i in indicators):
            raise BadDefinitions(f"{where}: 标识不合法或重复", detail={"where": where})
        dimension = _need(spec, "dimension", where)
        if dimension not in dimensions:
            raise BadDefinitions(f"{where}: 未定义的维度 {dimension}", detail={"where": where})
        text = str(_need(spec, "formula", where, (str, int, float)))
        used = formulas.names(text, where=where)
        for m in used:
            if m not in measures:
                raise BadDefinitions(f"{where}: 公式中的度量 {m} 未定义", detail={"where": where, "measure": m})
        if not used:
            raise BadDefinitions(f"{where}: 公式至少要用一个度量", detail={"where": where})
        direction = _need(spec, "direction", where)
        if direction not in DIRECTIONS:
            raise BadDefinitions(f"{where}: direction 须为 higher 或 lower", detail={"where": where})
        target = spec.get("target")
        if target is not None and (not isinstance(target, (int, float)) or isinstance(target, bool)):
            raise BadDefinitions(f"{where}: target 须为数字或 null", detail={"where": where})
        tolerated = str(spec.get("tolerated", "") or "")
        if tolerated and "tolerated_lead" not in facts[measures[used[0]].fact].sql:
            raise BadDefinitions(f"{where}: tolerated 需要事实 {measures[used[0]].fact} 有 tolerated_lead 列",
                                 detail={"where": where, "field": "tolerated"})
        indicators.append(Indicator(
            id=iid, name=_need(spec, "name", where), dimension=dimension,
            definition=_need(spec, "definition", where), formula=text, unit=str(_need(spec, "unit", where)),
            direction=direction, target=None if target is None else float(target),
            drill=str(spec.get("drill", "") or ""), measures=tuple(used), fact=measures[used[0]].fact,
            tolerated=tolerated))
    return Definitions(version=version, sha256=sha256, parameters=dict(params), dimensions=dict(dimensions),
                       facts=facts, measures=measures, indicators=tuple(indicators), raw=data)


def read_file(path: Path) -> tuple[dict[str, Any], str]:
    """The file's data and the SHA-256 of its canonical JSON (formatting and comments do not make a version)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BadDefinitions(f"无法读取指标文件 {path}：{exc}") from exc
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return data, hashlib.sha256(canonical.encode()).hexdigest()


def configured_path() -> Path:
    return Path(getattr(settings, "TONGBAN_INSIGHT_INDICATORS", "") or SHIPPED)


@transaction.atomic
def load(path: Path | None = None) -> tuple[Definitions, bool]:
    """Store the file as a new version when its content changed; return (definitions, created)."""
    from ..models import IndicatorSet

    path = path or configured_path()
    data, sha = read_file(path)
    parse(data, sha256=sha)  # refuse a bad file before storing anything
    latest = IndicatorSet.objects.select_for_update().order_by("-version").first()
    if latest is not None and latest.sha256 == sha:
        return parse(latest.definitions, sha256=sha, version=latest.version), False
    row = IndicatorSet.objects.create(version=(latest.version + 1) if latest else 1, sha256=sha,
                                      source_name=str(path), definitions=data)
    return parse(row.definitions, sha256=sha, version=row.version), True


def current() -> Definitions:
    """The newest stored version; the configured file is loaded (as version 1) when none is stored yet."""
    from ..models import IndicatorSet

    row = IndicatorSet.objects.order_by("-version").first()
    if row is None:
        return load()[0]
    return parse(row.definitions, sha256=row.sha256, version=row.version)
