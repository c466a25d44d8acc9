"""Demo data for credentials: licence types, seal keys of the demo departments, and a few e-licences
(a business licence for 云溪星火科技有限公司, a birth medical certificate for zhangsan's child, ID cards and a
household register booklet). Idempotent: each demo licence has a fixed application reference."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rich.console import Console

from tongban.core.demo import ID_NUMBERS
from tongban.core.models import Organisation, User

from . import keys, selectors, services
from .errors import InvalidData
from .models import Credential

# The demo city's issuing organisation (发证机关) of each built-in licence type.
DEMO_ISSUERS: dict[str, str] = {
    "business_licence": "yx-scjg", "food_operation_licence": "yx-scjg", "birth_medical_certificate": "yx-wsjk",
    "public_gathering_fire_safety": "yx-xf", "outdoor_signboard": "yx-cg", "social_security_card": "yx-rsj",
    "resident_id_card": "yx-ga", "household_register_booklet": "yx-ga", "vaccination_certificate": "yx-wsjk",
}

# (application ref, licence type, holder username, holder kind, data)
DEMO_CREDENTIALS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("DEMO-YYZZ-0001", "business_licence", "yunxi-tech", "legal", {
        "entity_type": "有限责任公司（自然人投资或控股）", "legal_representative": "张三",
        "registered_capital": "壹佰万元整", "established_on": "2025-03-01", "business_term": "长期",
        "address": "东川省云溪市青山区翠湖路88号创新大厦5楼",
        "business_scope": "一般项目：软件开发；信息技术咨询服务；数据处理和存储支持服务；"
                          "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广。",
    }),
    ("DEMO-CSYXZM-0001", "birth_medical_certificate", "zhangsan", "natural", {
        "child_name": "张小溪", "sex": "男", "birth_date": "2025-10-08", "birth_place": "东川省云溪市青山区",
        "gestational_weeks": 39, "weight_g": 3350, "mother_name": "王丽",
        "mother_id_number": "910102199203052346", "father_name": "张三",
        "father_id_number": ID_NUMBERS["zhangsan"], "institution": "云溪市第一人民医院",
    }),
    ("DEMO-SFZ-0001", "resident_id_card", "zhangsan", "natural", {
        "sex": "男", "ethnicity": "汉", "birth_date": "1990-01-01", "address": "东川省云溪市青山区翠湖街道翠湖社区3栋2单元501室",
    }),
    ("DEMO-SFZ-0002", "resident_id_card", "lisi", "natural", {
        "sex": "女", "ethnicity": "汉", "birth_date": "1988-03-15", "address": "东川省云溪市河东区东门街道滨江路12号",
    }),
    ("DEMO-HKB-0001", "household_register_booklet", "zhangsan", "natural", {
        "household_type": "家庭户", "address": "东川省云溪市青山区翠湖街道翠湖社区3栋2单元501室",
        "members": [{"name": "张三", "relation": "户主", "id_number": ID_NUMBERS["zhangsan"]},
                    {"name": "王丽", "relation": "妻", "id_number": "910102199203052346"}],
    }),
]

SAMPLE_DATA: dict[str, dict[str, Any]] = {
    "food_operation_licence": {"legal_representative": "张三", "address": "云溪市青山区翠湖路90号1层",
                               "main_business": "餐饮服务经营者（小型餐馆）", "business_items": "热食类食品制售"},
    "public_gathering_fire_safety": {"venue_name": "星火小馆", "address": "云溪市青山区翠湖路90号1层",
                                     "usage": "餐饮场所", "floor_area_m2": 180},
    "outdoor_signboard": {"location": "云溪市青山区翠湖路90号临街外墙", "content": "星火小馆", "size": "6×1.2",
                          "material": "LED 发光字"},
    "social_security_card": {"card_number": "YX0000001", "bank": "云溪农商银行"},
    "vaccination_certificate": {"child_name": "张小溪", "birth_date": "2025-10-08", "clinic": "翠湖社区卫生服务中心"},
}


def _holder(username: str, kind: str) -> dict[str, Any]:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise InvalidData(f"演示账号 {username} 不存在，请先运行 tongban demo", code="credentials.no_demo_data")
    return {"kind": kind, "name": user.display_name or username,
            "id_number": user.id_number or ID_NUMBERS.get(username, ""), "user_id": user.pk}


def issue_one(licence_type: str) -> Credential:
    """Issue one more demo licence of ``licence_type`` (CLI ``credentials issue-demo``)."""
    services.ensure_licence_types(DEMO_ISSUERS)
    for _ref, code, username, kind, data in DEMO_CREDENTIALS:
        if code == licence_type:
            return services.issue_credential(code, _holder(username, kind), data)
    lt = selectors.get_licence_type(licence_type)
    legal = lt.holder_kind == "legal"
    holder = _holder("yunxi-tech", "legal") if legal else _holder("zhangsan", "natural")
    return services.issue_credential(lt, holder, dict(SAMPLE_DATA.get(licence_type, {})))


@transaction.atomic
def load(console: Console) -> None:
    types = services.ensure_licence_types(DEMO_ISSUERS)
    orgs = Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT)
    for org in orgs:
        keys.ensure_org_keys(org)
    issued = 0
    for ref, code, username, kind, data in DEMO_CREDENTIALS:
        if Credential.objects.filter(application_ref=ref, licence_type__code=code).exists():
            continue
        if not User.objects.filter(username=username).exists():
            continue
        services.issue_credential(code, _holder(username, kind), data, application_ref=ref)
        issued += 1
    total = Credential.objects.filter(application_ref__startswith="DEMO-").count()
    console.print(f"[green]credentials[/green]: {len(types)} 种证照类型, {orgs.count()} 个部门的电子印章, "
                  f"{total} 张演示电子证照（本次新签发 {issued} 张）")
