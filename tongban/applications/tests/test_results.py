from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongban.applications import results


def test_known_credit_codes_validate():
    # The GB 32100 sample code: its organisation-code part (M000100Y, check 4) and its own check digit (3).
    assert results.org_code_check_digit("M000100Y") == "4"
    assert results.is_valid_uscc("91350100M000100Y43")
    assert not results.is_valid_uscc("91350100M000100Y44")
    code = results.new_credit_code("350100")
    assert len(code) == 18 and results.is_valid_uscc(code)
    tampered = code[:10] + ("1" if code[10] != "1" else "2") + code[11:]
    assert not results.is_valid_uscc(tampered)


@given(st.integers(min_value=0, max_value=50))
def test_generated_codes_are_always_valid(_):
    assert results.is_valid_uscc(results.new_credit_code("350100"))


@pytest.mark.django_db
def test_mapping_uses_form_fields_fallbacks_and_specials(small_catalog, users):
    from tongban.applications import services

    shop = small_catalog["shop"]
    shop.result_licence_type = "food_operation_licence"
    shop.result_mapping = {"operator_name": "enterprise_name|=applicant_name", "credit_code": "=credit_code",
                           "address": "shop_address", "note": "=literal:测试", "area": "{shop_area_sqm}平方米"}
    shop.save()
    app = services.create_application(user=users["zhangsan"], item_code="T-SHOP-01",
                                      form_data={"applicant_name": "张三", "shop_address": "翠湖路1号"})
    ai = app.items.get()
    licence_type, data = results.licence_data(ai)
    assert licence_type == "food_operation_licence"
    assert data["operator_name"] == "张三" and data["address"] == "翠湖路1号" and data["note"] == "测试"
    assert "area" not in data  # template with a missing field is left out
    assert results.is_valid_uscc(data["credit_code"])
    # the same entity keeps its code
    ai.application.refresh_from_db()
    assert results.licence_data(ai)[1]["credit_code"] == data["credit_code"]
