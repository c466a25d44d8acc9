"""A small supervision world on the demo city: two items with supervising departments, 40 entities in two
divisions, five inspectors of 市场监管局 and a plan."""

from __future__ import annotations

from datetime import date

import pytest

from tongban.catalog import services as catalog_services
from tongban.catalog.models import ServiceItem
from tongban.core.models import Organisation, User
from tongban.supervision import services, uscc

COMPANY = "91910100MA1YX0001K"  # the demo company (yunxi-tech)


def code(i: int, division: str = "910102") -> str:
    return uscc.make(f"91{division}", f"MA{i:07d}")


def entity_row(i: int, division: str = "910102001000", **extra) -> dict:
    return {"uscc": code(i, division[:6]), "name": f"测试企业{i}有限公司", "kind": "legal_person",
            "division": division, "address": f"测试路{i}号", "industry": "H", "departments": ["yx-scjg"], **extra}


@pytest.fixture
def items(demo_core):
    scjg, xf = Organisation.objects.get(code="yx-scjg"), Organisation.objects.get(code="yx-xf")
    made = {}
    for item_code, name, dept, kind in [("S-FOOD-01", "食品经营许可证核发", scjg, "new"),
                                        ("S-FOOD-02", "食品经营许可证变更", scjg, "change"),
                                        ("S-FIRE-01", "公众聚集场所消防安全检查", xf, "")]:
        made[item_code] = ServiceItem.objects.create(
            code=item_code, name=name, item_type="licensing", competent_department=dept, implementing_org=dept,
            exercise_level="city", handling_kind=kind, commitment_allowed=True)
    catalog_services.set_supervision("S-FOOD-02", "qs-scjg", "变更事项现场核查")
    return made


@pytest.fixture
def world(items):
    services.load_entities([entity_row(i) for i in range(1, 21)]
                           + [entity_row(i, "910103001000") for i in range(21, 41)])
    for c, name, division in [("I-1", "钱立新", "910102001000"), ("I-2", "孙海燕", "910103001000"),
                              ("I-3", "李文斌", "910102101000"), ("I-4", "周晓东", "910100000000"),
                              ("I-5", "吴静", "910103000000")]:
        services.save_inspector(code=c, name=name, department="yx-scjg", division=division,
                                user=User.objects.get(username="supervisor") if c == "I-1" else None)
    plan = services.save_plan(code="P-1", name="食品经营双随机抽查", department="yx-scjg",
                              ratios={"A": 0.1, "B": 0.25, "C": 0.5, "D": 1}, industries=["H"],
                              period_start=date(2026, 1, 1), period_end=date(2026, 12, 31),
                              checklist=["许可证在有效期内", "从业人员健康证明"])
    return {"plan": plan, "users": {u.username: u for u in User.objects.all()}}
