"""Items, discretion benchmarks (裁量基准) and the penalty rules they drive: major decisions, the hearing right."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from .. import conf, discretion, selectors
from ..errors import (
    UNKNOWN_ITEM,
    EnforcementError,
)
from ..models import EnforcementItem, PenaltyKind
from .common import HEARING_KINDS, SUSPENSION_KINDS

# --- items and discretion -----------------------------------------------------------------------------------


def get_item(code: str) -> EnforcementItem:
    item = selectors.item(str(code or "").strip())
    if item is None:
        raise EnforcementError(f"未知的执法事项“{code}”", code=UNKNOWN_ITEM, status=404, detail={"field": "item"})
    return item


def assess(item_code: str, facts: Any) -> discretion.Discretion:
    """POST /api/enforcement/discretion: the level, the legal basis and the allowed range for the facts."""
    return discretion.assess(discretion.item_spec(get_item(item_code)), facts)



def _amount(value: Any, fld: str = "fine") -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise EnforcementError(f"罚款金额“{value}”不是数值", detail={"field": fld}) from None
    if not result.is_finite() or result < 0:
        raise EnforcementError("罚款金额必须是不小于 0 的数值", detail={"field": fld})
    return result.quantize(Decimal("0.01"))


def _kinds(kinds: Any) -> list[str]:
    if not isinstance(kinds, list) or not kinds:
        raise EnforcementError("请选择处罚种类", detail={"field": "penalty_kinds"})
    unknown = [k for k in kinds if k not in PenaltyKind.values]
    if unknown:
        raise EnforcementError(f"处罚种类“{'、'.join(map(str, unknown))}”未知", detail={"field": "penalty_kinds"})
    return list(dict.fromkeys(kinds))


def is_major(kinds: list[str], fine: Decimal | None, *, hearing_held: bool) -> list[str]:
    """The major-decision criteria (重大执法决定) the decision meets (empty: not major)."""
    criteria = conf.major_criteria()
    met = []
    if "fine" in criteria and fine is not None and fine > conf.major_fine():
        met.append("fine")
    if "revocation" in criteria and PenaltyKind.REVOKE_LICENCE in kinds:
        met.append("revocation")
    if "suspension" in criteria and SUSPENSION_KINDS & set(kinds):
        met.append("suspension")
    if "hearing" in criteria and hearing_held:
        met.append("hearing")
    return met


MAJOR_LABELS = {"fine": "罚款数额较大", "revocation": "吊销许可证件", "suspension": "责令停产停业等",
                "hearing": "经过听证"}


def hearing_right(kinds: list[str], fine: Decimal | None) -> bool:
    """《行政处罚法》第六十三条: 较大数额罚款, 吊销许可证件, 责令停产停业 ... give the right to a hearing."""
    return bool(HEARING_KINDS & set(kinds)) or (fine is not None and fine >= conf.hearing_fine())
