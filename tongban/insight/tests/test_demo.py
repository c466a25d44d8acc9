"""The synthetic history: six months and more of cases with variation, idempotent."""

from __future__ import annotations

import pytest
from rich.console import Console

from tongban.applications.models import Application
from tongban.apps_registry import context_modules
from tongban.insight import demo
from tongban.insight.indicators import compute
from tongban.insight.indicators.compute import current_period

pytestmark = pytest.mark.django_db


def test_demo_history_covers_six_months_and_every_efficiency_figure_moves():
    for _, module in context_modules("demo"):  # the whole demo city, as `tongban demo` loads it
        module.load(Console(quiet=True))
    n = Application.objects.filter(ref__startswith=demo.PREFIX).count()
    assert n > 1000
    demo.load(Console(quiet=True))  # idempotent
    assert Application.objects.filter(ref__startswith=demo.PREFIX).count() == n
    months = [current_period().previous(k) for k in range(1, 7)]
    on_time = [compute(p, indicators=["on_time_rate", "good_rating_rate", "fully_online_share"]) for p in months]
    for figures in on_time:
        assert all(f.value is not None for f in figures)  # every month has cases, ratings, online cases
    assert len({figures[0].value for figures in on_time}) > 1  # the figures vary month to month
    # 容错纠错: leads raised, one exempted (its records leave last month's penalty figures), one refused, one pending
    from tongban.insight.accountability.models import AccountabilityLead as Lead

    assert Lead.objects.filter(determination="exempt").count() == 1
    assert Lead.objects.filter(determination="refused").count() == 1
    assert Lead.objects.filter(status="applied").count() == 1
    last = current_period().previous()
    excluded = {f.indicator.id: f.tolerated for f in compute(last, indicators=["on_time_rate",
                                                                              "cross_department_overdue"])}
    assert excluded["cross_department_overdue"] == 1 or excluded["on_time_rate"] == 1
