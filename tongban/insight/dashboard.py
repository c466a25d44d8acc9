"""What the dashboards show (reads only): the month's figures by dimension, a trend, rankings of departments and
items, a division breakdown, the drill-down rows — with Chinese names for every code — and who may see what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tongban.catalog.models import Bundle, ServiceItem
from tongban.core.models import Division, Organisation, Role
from tongban.core.selectors import has_role
from tongban.feedback.models import WorkOrder

from .errors import InsightError
from .indicators import Definitions, Figure, Indicator, Period, compute, current, drill, parse_period
from .indicators.compute import current_period

TREND_MONTHS = 12
RANK_LIMIT = 15


# --- who may see what -------------------------------------------------------------------------------------------

def is_staff(user: Any) -> bool:
    """The staff dashboard: any signed-in staff member (工作人员) or the platform administrator."""
    return bool(getattr(user, "is_authenticated", False)) and (user.kind == "staff" or user.is_superuser)


def drill_scope(user: Any) -> str | None:
    """Whose cases a staff member may list behind a figure: ``""`` every organisation (administrators, third-party
    evaluators), an organisation code (other staff: their own organisation), ``None`` nobody's."""
    if not is_staff(user):
        return None
    if user.is_superuser or has_role(user, Role.ADMINISTRATOR) or has_role(user, Role.EVALUATOR):
        return ""
    org = Organisation.objects.filter(pk=user.organisation_id).values_list("code", flat=True).first()
    return org or None


# --- names ------------------------------------------------------------------------------------------------------

class Names:
    """Chinese names for the codes the figures carry (organisations, divisions, items and bundles, 12345 types)."""

    def __init__(self) -> None:
        self.orgs = dict(Organisation.objects.values_list("code", "name"))
        self.divisions = dict(Division.objects.values_list("code", "name"))
        self.items = dict(ServiceItem.objects.values_list("code", "name"))
        self.items.update(Bundle.objects.values_list("code", "name"))
        self.items.update({k: f"12345{v}" for k, v in WorkOrder.Type.choices})

    def of(self, group_by: str, code: str) -> str:
        table = {"org": self.orgs, "division": self.divisions, "item": self.items}[group_by]
        return table.get(code) or code or "（未注明）"


def period_label(period: Period) -> str:
    return f"{period.first_day.year}年{period.first_day.month}月"


def default_period() -> Period:
    """The last complete month (the current month is still running)."""
    return current_period().previous()


def recent_periods(n: int = TREND_MONTHS, end: Period | None = None) -> list[Period]:
    end = end or default_period()
    return [end.previous(k) for k in range(n - 1, -1, -1)]


def parse_or_default(text: str) -> Period:
    return parse_period(text) if text else default_period()


# --- the pages' data --------------------------------------------------------------------------------------------

@dataclass
class Card:
    figure: Figure

    @property
    def indicator(self) -> Indicator:
        return self.figure.indicator

    @property
    def status(self) -> str:
        """``met`` / ``missed`` against the target in the indicator's direction, ``""`` without target or value."""
        ind, value = self.figure.indicator, self.figure.value
        if ind.target is None or value is None:
            return ""
        ok = value >= ind.target if ind.direction == "higher" else value <= ind.target
        return "met" if ok else "missed"


def overview(period: Period, org: str = "") -> dict[str, Any]:
    """Every indicator of the month, grouped by dimension (in the file's order)."""
    defs = current()
    figures = compute(period, org=org, definitions=defs)
    groups: dict[str, list[Card]] = {}
    for f in figures:
        groups.setdefault(f.indicator.dimension, []).append(Card(f))
    return {"definitions": defs, "dimensions": [(key, defs.dimensions[key], cards) for key, cards in groups.items()]}


def chosen_indicator(defs: Definitions, indicator_id: str) -> Indicator:
    ind = defs.indicator(indicator_id) if indicator_id else defs.indicators[0]
    if ind is None:
        raise InsightError(f"指标“{indicator_id}”不存在", code="insight.not_found", status=404)
    return ind


def trend(ind: Indicator, period: Period, org: str = "", defs: Definitions | None = None) -> list[dict[str, Any]]:
    out = []
    for p in recent_periods(TREND_MONTHS, period):
        (fig,) = compute(p, org=org, indicators=[ind.id], definitions=defs)
        out.append({"label": period_label(p), "period": p.text, "value": fig.value})
    return out


def ranking(ind: Indicator, period: Period, group_by: str, names: Names, org: str = "",
            defs: Definitions | None = None, limit: int = RANK_LIMIT) -> list[dict[str, Any]]:
    """The indicator per organisation / item / division, best first in the indicator's direction (no value last)."""
    rows = [{"code": f.group, "name": names.of(group_by, f.group), "value": f.value}
            for f in compute(period, org=org, group_by=group_by, indicators=[ind.id], definitions=defs)]
    with_value = sorted((r for r in rows if r["value"] is not None), key=lambda r: r["value"],
                        reverse=ind.direction == "higher")
    return (with_value + [r for r in rows if r["value"] is None])[:limit]


def charts(ind: Indicator, period: Period, org: str = "") -> dict[str, Any]:
    """Trend, department and item rankings, division breakdown of one indicator (each a chart and its table)."""
    defs = current()
    names = Names()
    return {
        "trend": trend(ind, period, org, defs),
        "departments": ranking(ind, period, "org", names, org, defs),
        "items": ranking(ind, period, "item", names, org, defs),
        "divisions": ranking(ind, period, "division", names, org, defs),
    }


def drill_rows(ind: Indicator, period: Period, org: str, limit: int = 200,
               tolerated: bool = False) -> list[dict[str, Any]]:
    """The records behind a figure or, with ``tolerated``, the records 容错纠错 left out of it (with their lead)."""
    names = Names()
    rows = drill(ind.id, period, org=org, limit=limit, tolerated=tolerated)
    for r in rows:
        r["org_name"] = names.of("org", r["org"]) if r["org"] else ""
        r["item_name"] = names.of("item", r["item"]) if r["item"] else ""
        r["division_name"] = names.of("division", r["division"]) if r["division"] else ""
        at = r["at"]
        r["local_at"] = timezone.localtime(at) if hasattr(at, "tzinfo") and getattr(at, "hour", None) is not None \
            else at
    return rows


def organisations() -> list[tuple[str, str]]:
    """The organisations one may filter by (departments, centres, governments), as (code, name)."""
    return list(Organisation.objects.exclude(kind=Organisation.Kind.WINDOW).order_by("code")
                .values_list("code", "name"))
