"""The evaluation indicator system (评估指标体系): declared in ``definitions.yaml``, versioned in
:class:`insight.models.IndicatorSet`, computed by :mod:`.compute` (docs/insight.md)."""

from .compute import Figure, Period, compute, drill, ensure_workdays, figures_json, parse_period
from .definitions import Definitions, Indicator, current, load

__all__ = ["Definitions", "Figure", "Indicator", "Period", "compute", "current", "drill", "ensure_workdays",
           "figures_json", "load", "parse_period"]
