"""裁量基准 as pure functions: from an item's benchmark and a case's facts to the circumstance level, the legal
basis and the allowed penalty range, and the check of a decided fine against it.

Nothing here touches the database: :func:`item_spec` turns the models into plain specs (services and the API
call it), :func:`assess` and :func:`check_fine` work on the specs only, so the rules are testable alone.

Amount specs: ``"50000"`` is an amount in yuan, ``"10x"`` ten times the item's measure (e.g. 货值金额十倍).
Factors: 首违不罚 (第三十三条) lets a 轻微 case go without penalty when its fact holds; 从轻 narrows the range to
its lower half, 从重 to its upper half (the city's benchmark rule: 从轻在中间值以下，从重在中间值以上); a fine
below the range (减轻, 第三十二条) or above it (从重 beyond the level) needs a written justification and an
approved 法制审核, and never leaves the statutory range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .errors import INVALID_FACTS, NO_MATCHING_LEVEL, OUTSIDE_BENCHMARK, EnforcementError
from .models import LEVEL_RANK, FactorKind, Level, PenaltyKind

_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(x|倍)?\s*$", re.IGNORECASE)
LEVEL_LABELS = dict(Level.choices)
KIND_LABELS = dict(PenaltyKind.choices)
FACTOR_LABELS = dict(FactorKind.choices)
CENT = Decimal("0.01")


def parse_amount(spec: str) -> tuple[Decimal, bool]:
    """``"50000"`` → (50000, False); ``"10x"`` → (10, True). ValueError on anything else."""
    match = _AMOUNT.match(str(spec))
    if not match:
        raise ValueError(f"金额“{spec}”格式错误，应为元数（如 50000）或倍数（如 10x）")
    return Decimal(match.group(1)), bool(match.group(2))


def amount(spec: str, measure: Decimal) -> Decimal | None:
    """The amount a spec gives for a measure value (None for an empty spec)."""
    if not spec:
        return None
    value, times = parse_amount(spec)
    return (value * measure).quantize(CENT, ROUND_HALF_UP) if times else value.quantize(CENT)


@dataclass(frozen=True)
class LevelSpec:
    level: str
    facts: str
    measure_from: Decimal
    measure_to: Decimal | None
    conditions: dict[str, Any]
    penalty_kinds: list[str]
    fine_min: str = ""
    fine_max: str = ""
    law_min: str = ""
    law_max: str = ""

    def covers(self, value: Decimal, facts: dict[str, Any]) -> bool:
        if value < self.measure_from or (self.measure_to is not None and value >= self.measure_to):
            return False
        return all(facts.get(name) == expected for name, expected in self.conditions.items())


@dataclass(frozen=True)
class FactorSpec:
    code: str
    kind: str
    fact: str
    description: str
    legal_basis: str


@dataclass(frozen=True)
class ItemSpec:
    code: str
    name: str
    law: str
    article: str
    basis_text: str
    measure: str
    measure_label: str
    levels: list[LevelSpec]
    factors: list[FactorSpec] = field(default_factory=list)


@dataclass
class Discretion:
    """The answer of :func:`assess`."""

    item: ItemSpec
    level: LevelSpec
    measure_value: Decimal
    fine_min: Decimal | None
    fine_max: Decimal | None
    level_fine_min: Decimal | None
    level_fine_max: Decimal | None
    statutory_min: Decimal | None
    statutory_max: Decimal | None
    factors: list[FactorSpec]
    exempt_possible: bool

    @property
    def claimed_kinds(self) -> set[str]:
        return {f.kind for f in self.factors}

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item.code, "item_name": self.item.name,
            "legal_basis": {"law": self.item.law, "article": self.item.article, "text": self.item.basis_text,
                            "citation": f"《{self.item.law}》{self.item.article}"},
            "level": self.level.level, "level_label": LEVEL_LABELS.get(self.level.level, self.level.level),
            "level_facts": self.level.facts,
            "measure": {"field": self.item.measure, "label": self.item.measure_label,
                        "value": _num(self.measure_value)},
            "penalty_kinds": [{"code": k, "label": KIND_LABELS.get(k, k)} for k in self.level.penalty_kinds],
            "fine_min": _num(self.fine_min), "fine_max": _num(self.fine_max),
            "level_fine_min": _num(self.level_fine_min), "level_fine_max": _num(self.level_fine_max),
            "statutory_min": _num(self.statutory_min), "statutory_max": _num(self.statutory_max),
            "factors": [{"code": f.code, "kind": f.kind, "label": FACTOR_LABELS.get(f.kind, f.kind),
                         "description": f.description, "legal_basis": f.legal_basis} for f in self.factors],
            "exempt_possible": self.exempt_possible,
        }


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def measure_value(item: ItemSpec, facts: Any) -> Decimal:
    """The item's measure read from the facts; a clear error naming the field otherwise."""
    if not isinstance(facts, dict):
        raise EnforcementError("facts 必须是对象（字段名 → 值）", code=INVALID_FACTS, detail={"field": "facts"})
    raw = facts.get(item.measure)
    if raw is None or raw == "":
        raise EnforcementError(f"情节缺少“{item.measure_label}”（facts.{item.measure}）", code=INVALID_FACTS,
                               detail={"field": f"facts.{item.measure}"})
    if isinstance(raw, bool):
        raise EnforcementError(f"“{item.measure_label}”（facts.{item.measure}）必须是数值", code=INVALID_FACTS,
                               detail={"field": f"facts.{item.measure}"})
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0:
        raise EnforcementError(f"“{item.measure_label}”（facts.{item.measure}）必须是不小于 0 的数值，收到 {raw!r}",
                               code=INVALID_FACTS, detail={"field": f"facts.{item.measure}"})
    return value


def assess(item: ItemSpec, facts: Any) -> Discretion:
    """The level the facts fall in (the most severe level whose facts all hold) and the allowed range."""
    value = measure_value(item, facts)
    matching = [lv for lv in item.levels if lv.covers(value, facts)]
    if not matching:
        raise EnforcementError(
            f"情节不符合“{item.name}”裁量基准的任何等级：facts.{item.measure}（{item.measure_label}）= {value}",
            code=NO_MATCHING_LEVEL, status=422, detail={"field": f"facts.{item.measure}", "value": float(value)})
    level = max(matching, key=lambda lv: (LEVEL_RANK.get(lv.level, 0), len(lv.conditions)))
    lo, hi = amount(level.fine_min, value), amount(level.fine_max, value)
    law_lo, law_hi = amount(level.law_min, value), amount(level.law_max, value)
    claimed = [f for f in item.factors if facts.get(f.fact) is True]
    kinds = {f.kind for f in claimed}
    allowed_lo, allowed_hi = lo, hi
    if lo is not None and hi is not None and (FactorKind.LIGHTER in kinds) != (FactorKind.HEAVIER in kinds):
        mid = ((lo + hi) / 2).quantize(CENT, ROUND_HALF_UP)
        allowed_lo, allowed_hi = (lo, mid) if FactorKind.LIGHTER in kinds else (mid, hi)
    exempt = level.level == Level.MINOR and FactorKind.EXEMPT_FIRST in kinds
    return Discretion(item, level, value, allowed_lo, allowed_hi, lo, hi, law_lo, law_hi, claimed, exempt)


def check_fine(result: Discretion, fine: Decimal | None, kinds: list[str], *, justification: str,
               review_approved: bool) -> None:
    """Refuse a decision outside the benchmark with ``enforcement.outside_benchmark`` (outside the statute too, then
    with ``detail.statutory``); 减轻/从重 beyond the range need a justification and an approved review."""
    allowed = set(result.level.penalty_kinds) | {PenaltyKind.NONE} if result.exempt_possible else set(
        result.level.penalty_kinds)
    detail = {"allowed": result.as_dict()}
    if PenaltyKind.NONE in kinds:
        if kinds != [PenaltyKind.NONE] or fine:
            raise EnforcementError("不予行政处罚不能与其他处罚并用", code=OUTSIDE_BENCHMARK, status=422, detail=detail)
        if result.exempt_possible:
            return
        if FactorKind.MITIGATED in result.claimed_kinds and justification.strip() and review_approved:
            return
        raise EnforcementError("该情节不符合首违不罚条件，不能不予行政处罚", code=OUTSIDE_BENCHMARK, status=422,
                               detail=detail)
    unknown = [k for k in kinds if k not in allowed]
    if unknown:
        labels = "、".join(KIND_LABELS.get(k, k) for k in unknown)
        raise EnforcementError(f"处罚种类“{labels}”不在“{LEVEL_LABELS[result.level.level]}”等级的裁量基准内",
                               code=OUTSIDE_BENCHMARK, status=422, detail=detail)
    if PenaltyKind.FINE not in kinds:
        if fine:
            raise EnforcementError("处罚种类未包含罚款，不能填写罚款金额", code=OUTSIDE_BENCHMARK, status=422,
                                   detail=detail)
        return
    if fine is None:
        raise EnforcementError("请填写罚款金额", code=OUTSIDE_BENCHMARK, status=422, detail=detail)
    if (result.statutory_min is not None and fine < result.statutory_min and
            FactorKind.MITIGATED not in result.claimed_kinds) or (
            result.statutory_max is not None and fine > result.statutory_max) or fine < 0:
        raise EnforcementError(f"罚款 {fine} 元超出法定幅度（{_range(result.statutory_min, result.statutory_max)}），"
                               "也就超出了裁量基准", code=OUTSIDE_BENCHMARK, status=422,
                               detail={**detail, "statutory": True})
    lo, hi = result.fine_min, result.fine_max
    below = lo is not None and fine < lo
    above = hi is not None and fine > hi
    if not below and not above:
        return
    needed = FactorKind.MITIGATED if below else FactorKind.HEAVIER
    justified = needed in result.claimed_kinds and bool(justification.strip())
    if justified and review_approved:
        return
    why = (f"需具备{FACTOR_LABELS[needed]}情节、写明理由并经法制审核通过" if not justified
           else "法制审核尚未通过")
    raise EnforcementError(f"罚款 {fine} 元超出裁量基准（{_range(lo, hi)}）：{why}", code=OUTSIDE_BENCHMARK,
                           status=422, detail=detail)


def _range(lo: Decimal | None, hi: Decimal | None) -> str:
    return f"{lo if lo is not None else '-'}–{hi if hi is not None else '-'} 元"


def item_spec(item: Any) -> ItemSpec:
    """The spec of an ``EnforcementItem`` (its levels and factors, the item's own and the general ones)."""
    from django.db.models import Q

    from .models import Factor

    levels = [LevelSpec(lv.level, lv.facts, lv.measure_from, lv.measure_to, dict(lv.conditions or {}),
                        list(lv.penalty_kinds or []), lv.fine_min, lv.fine_max, lv.law_min, lv.law_max)
              for lv in item.levels.all()]
    factors = [FactorSpec(f.code, f.kind, f.fact, f.description, f.legal_basis)
               for f in Factor.objects.filter(Q(item__isnull=True) | Q(item=item))]
    return ItemSpec(item.code, item.name, item.law, item.article, item.basis_text, item.measure,
                    item.measure_label, levels, factors)
