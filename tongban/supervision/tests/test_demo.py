"""The demo: at least 300 entities across the demo divisions, 3 plans in 3 departments, 6+ inspectors; idempotent."""

from __future__ import annotations

from rich.console import Console

from tongban.catalog import demo as catalog_demo
from tongban.catalog.models import ServiceItem
from tongban.supervision import demo, services, uscc
from tongban.supervision.models import Draw, DrawPlan, Inspector, MarketEntity


def test_demo_register_plans_and_a_recomputable_draw(demo_core):
    catalog_demo.load(Console(quiet=True))
    demo.load(Console(quiet=True))
    assert MarketEntity.objects.count() >= 300
    assert MarketEntity.objects.values("division").distinct().count() >= 5
    assert all(uscc.is_valid(c) for c in MarketEntity.objects.values_list("uscc", flat=True))
    assert set(MarketEntity.objects.values_list("grade", flat=True)) == {"A", "B", "C", "D"}
    assert DrawPlan.objects.values("department").distinct().count() >= 3
    assert Inspector.objects.count() >= 6
    assert ServiceItem.objects.get(code="YX-XF-XK-0001").supervising_department.code == "yx-xf"
    draw = Draw.objects.get()
    assert services.redraw(draw) is None
    counts = (MarketEntity.objects.count(), Inspector.objects.count(), Draw.objects.count())
    demo.load(Console(quiet=True))
    assert (MarketEntity.objects.count(), Inspector.objects.count(), Draw.objects.count()) == counts
    for plan in DrawPlan.objects.all():
        services.run_draw(plan, seed="demo-check")  # every demo plan can be drawn
