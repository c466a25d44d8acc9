"""Choice labels are translated on pages (gettext_lazy, Chinese msgid) but stay Chinese in data: spreadsheets,
file imports and the list diff's field labels do not change with the user's language."""

from __future__ import annotations

import pytest
from django.utils import translation

from tongban.catalog import importing, selectors
from tongban.catalog.models import DutyList, ItemType, Material, chinese_labels


def test_choice_labels_follow_the_active_language():
    with translation.override("en"):
        assert str(ItemType.LICENSING.label) == "Administrative licensing"
        assert str(Material.Source.ISSUED.label) == "Issued by a department (e-licence)"
    with translation.override("zh-hans"):
        assert str(ItemType.LICENSING.label) == "行政许可"


def test_data_uses_the_chinese_labels_whatever_the_language():
    with translation.override("en"):
        assert chinese_labels(ItemType)["licensing"] == "行政许可"
        assert chinese_labels(Material.Requirement) == {"required": "必要（核心材料）", "tolerable": "容缺（可后补）",
                                                        "optional": "非必要"}
        assert importing.TYPE_BY_LABEL["行政许可"] == "licensing"
        assert selectors.POWER_LABELS["name"] == "职权名称"  # the diff's field labels (translated on the page only)


@pytest.mark.django_db
def test_power_spreadsheet_rows_keep_chinese_type_names_for_an_english_user(catalog_small):
    duty_list = DutyList.objects.filter(organisation__code="yx-scjg", status="published").order_by("-version").first()
    with translation.override("en"):
        rows = importing.list_rows(duty_list, "powers")
    type_column = [label for _, label in importing.POWER_COLUMNS].index("职权类型")
    assert {row[type_column] for row in rows[1:]} <= set(chinese_labels(ItemType).values())
    assert all(isinstance(cell, str) for row in rows for cell in row)
