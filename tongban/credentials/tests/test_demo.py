from __future__ import annotations

import pytest
from rich.console import Console

from tongban.core import pii
from tongban.core.demo import ID_NUMBERS
from tongban.core.models import User
from tongban.credentials import demo, selectors
from tongban.credentials.models import Credential, SealKey
from tongban.credentials.verification import verify_vc

pytestmark = pytest.mark.django_db


def test_demo_load_is_idempotent_and_issues_valid_licences(demo_core):
    demo.load(Console(quiet=True))
    counts = (Credential.objects.count(), SealKey.objects.count())
    demo.load(Console(quiet=True))
    assert (Credential.objects.count(), SealKey.objects.count()) == counts
    licence = Credential.objects.get(pii.matching("holder_id_number", ID_NUMBERS["yunxi-tech"]),
                                     licence_type__code="business_licence")
    assert licence.holder_name == "云溪星火科技有限公司" and verify_vc(licence.vc_jws).valid
    birth = Credential.objects.get(licence_type__code="birth_medical_certificate")
    assert birth.data["child_name"] == "张小溪" and birth.holder_id_number == ID_NUMBERS["zhangsan"]
    wallet = selectors.credentials_for_holder(User.objects.get(username="zhangsan"))
    assert {c.licence_type.code for c in wallet} >= {"birth_medical_certificate", "resident_id_card"}
