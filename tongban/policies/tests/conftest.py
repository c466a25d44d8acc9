"""A small population: persons (accounts with ID numbers) and market entities, and policies over them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tongban.core.models import Division, User
from tongban.supervision import uscc
from tongban.supervision.models import MarketEntity


def person_id(born: dt.date, n: int = 1) -> str:
    """A fictional 18-digit ID number born on ``born`` (division 910102 does not exist)."""
    return f"910102{born:%Y%m%d}{n:03d}1"


def entity_code(i: int) -> str:
    return uscc.make("91910102", f"MA{i:07d}")


@pytest.fixture
def population(demo_core):
    today = timezone.localdate()
    old = User.objects.create(username="laoren", display_name="王奶奶", kind=User.Kind.NATURAL_PERSON,
                              id_number=person_id(today.replace(year=today.year - 85) - dt.timedelta(days=3)))
    young = User.objects.create(username="xiaoli", display_name="小李", kind=User.Kind.NATURAL_PERSON,
                                id_number=person_id(dt.date(2000, 6, 1), 2))
    division = Division.objects.order_by("code").first()
    entities = []
    for i, (kind, grade, days) in enumerate([("legal_person", "A", 3000), ("legal_person", "B", 100),
                                             ("legal_person", "D", 800), ("individual_business", "A", 200),
                                             ("individual_business", "C", 30)], 1):
        entities.append(MarketEntity.objects.create(
            uscc=entity_code(i), name=f"测试主体{i}", kind=kind, grade=grade, division=division,
            established_on=today - dt.timedelta(days=days)))
    company = User.objects.get(username="yunxi-tech")
    MarketEntity.objects.create(uscc=company.id_number, name=company.display_name, kind="legal_person", grade="B",
                                division=division, established_on=dt.date(2019, 5, 20))
    return {"old": old, "young": young, "entities": entities, "company": company}


ELDERLY = {
    "code": "T-GLJT", "name": "高龄津贴", "kind": "allowance", "subject": "person",
    "legal_basis": [{"law": "《老年人权益保障法》", "article": "第三十三条"}],
    "rule": [{"attr": "person.age", "op": ">=", "value": 80}],
    "reason": "您今年{person.age}周岁，已满80周岁，可以享受高龄津贴。",
}
REFUND = {
    "code": "T-WGFH", "name": "稳岗返还", "kind": "subsidy", "subject": "entity",
    "legal_basis": [{"law": "《失业保险条例》", "article": "第五条"}],
    "rule": [{"attr": "entity.kind", "op": "==", "value": "legal_person"},
             {"attr": "entity.credit_grade", "op": "in", "value": ["A", "B", "C"]}],
    "events": ["entity_graded"],
}
STARTUP = {
    "code": "T-CYBT", "name": "一次性创业补贴", "kind": "subsidy", "subject": "entity",
    "legal_basis": [{"law": "《就业促进法》"}],
    "rule": [{"attr": "entity.kind", "op": "==", "value": "individual_business"},
             {"attr": "entity.established_days", "op": "<=", "value": 365},
             {"attr": "entity.credit_grade", "op": "in", "value": ["A", "B"]}],
}


@pytest.fixture
def users_admin(demo_core):
    return User.objects.get(username="admin")
