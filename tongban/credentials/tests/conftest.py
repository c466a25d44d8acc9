from __future__ import annotations

import pytest

from tongban.core.demo import ID_NUMBERS
from tongban.core.models import User

COMPANY = "云溪星火科技有限公司"


@pytest.fixture
def licence_types(demo_core):
    from tongban.credentials import services
    from tongban.credentials.demo import DEMO_ISSUERS

    return {t.code: t for t in services.ensure_licence_types(DEMO_ISSUERS)}


@pytest.fixture
def company_user(demo_core) -> User:
    return User.objects.get(username="yunxi-tech")


@pytest.fixture
def business_licence(licence_types, company_user):
    from tongban.credentials import services

    return services.issue_credential(
        "business_licence",
        {"kind": "legal", "name": COMPANY, "credit_code": ID_NUMBERS["yunxi-tech"], "user_id": company_user.pk},
        {"legal_representative": "张三", "entity_type": "有限责任公司（自然人投资或控股）",
         "registered_capital": "100万元人民币", "established_on": "2025-03-01", "address": "云溪市青山区翠湖路88号",
         "business_scope": "软件开发；信息技术咨询服务；数据处理服务。"},
        "yx-scjg", application_ref="YX-2025-000001", item_code="11910100MB0000001X400011001",
    )
