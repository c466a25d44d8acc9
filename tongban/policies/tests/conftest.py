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


# --- data of another department, through the exchange -----------------------------------------------------

INSURED = {
    "code": "T-QNZF", "name": "青年人租房补贴", "kind": "subsidy", "subject": "person", "department": "yx-zjj",
    "legal_basis": [{"law": "《国务院办公厅关于加快发展保障性租赁住房的意见》"}],
    "rule": [{"attr": "person.age", "op": "between", "value": [18, 30]},
             {"attr": "exchange:t_insurance.status", "op": "==", "value": "正常参保"},
             {"attr": "exchange:t_insurance.months_paid", "op": ">=", "value": 6}],
    "reason": "您在本市正常参保、已累计缴费{exchange:t_insurance.months_paid}个月，可以享受青年人租房补贴。",
}


@pytest.fixture
def insurance_register(population, settings):
    """A 有条件共享 register of 人社局 (social insurance) with records of both persons; no grant yet."""
    from tongban.exchange import services as exchange

    settings.TONGBAN_EXCHANGE_GRANT_PROCESS = False  # the owner decides directly (no review process)
    schema = {"type": "object", "required": ["id_number", "status"], "properties": {
        "id_number": {"title": "公民身份号码", "type": "string"}, "status": {"title": "参保状态", "type": "string"},
        "months_paid": {"title": "累计缴费月数", "type": "integer"}}}
    resource = exchange.save_resource(
        code="t_insurance", name="社会保险参保信息", owner="yx-rsj", schema=schema, subject_field="id_number",
        field_sensitivity={"id_number": "sensitive_personal", "status": "internal", "months_paid": "personal"},
        sharing_type="conditional")
    exchange.upsert_provider_record(resource, {"id_number": population["young"].id_number, "status": "正常参保",
                                               "months_paid": 60})
    exchange.upsert_provider_record(resource, {"id_number": population["old"].id_number, "status": "终止参保",
                                               "months_paid": 300})
    return resource


def grant(resource, consumer="yx-zjj", *, fields=("status", "months_paid"), unmasked=("months_paid",),
          consent_exempt=True, approve=True):
    """The consumer's grant for ``resource``: requested, then decided by the owner."""
    from tongban.exchange import services as exchange

    requested = exchange.request_grant(resource=resource, consumer=consumer, fields=list(fields),
                                       unmasked_fields=list(unmasked), purpose="免申即享：青年人租房补贴资格认定",
                                       legal_basis="《个人信息保护法》第十三条第一款第三项")
    if approve:
        exchange.decide_grant(requested, actor=None, approve=True, consent_exempt=consent_exempt, check_role=False)
    return requested
