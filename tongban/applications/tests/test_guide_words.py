"""Worded situation guides (issue 16, item 2): every demo bundle asks real questions, each once."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from rich.console import Console

from tongban.catalog.models import Bundle
from tongban.core.models import User


@pytest.fixture
def demo_catalog(db):
    from tongban.catalog import demo as catalog_demo
    from tongban.core import demo as core_demo

    core_demo.load(Console(quiet=True))
    catalog_demo.load(Console(quiet=True))


def test_every_bundle_guide_asks_worded_questions_once(demo_catalog):
    client = Client()
    client.force_login(User.objects.get(username="zhangsan"))
    bundles = list(Bundle.objects.filter(status="published"))
    assert bundles
    for bundle in bundles:
        html = client.get(f"/apply/bundle/{bundle.code}/").content.decode()
        legends = re.findall(r"<legend>([^<]+)</legend>", html)
        assert len(legends) == len(set(legends)), (bundle.code, legends)
        for legend in legends:
            assert "请选择适用的情形" not in legend and legend.endswith("？"), (bundle.code, legend)
        # no bare 是/否: every answer is worded
        answers = re.findall(r'<input type="radio" name="q-\d+" value="[^"]*"[^>]*> ([^<]+?)\s*(?:<|$)', html)
        assert answers and not {"是", "否"} & {a.strip() for a in answers}, (bundle.code, answers)


def test_the_birth_bundle_asks_about_the_parents_and_the_place_of_birth(demo_catalog):
    client = Client()
    client.force_login(User.objects.get(username="zhangsan"))
    html = client.get("/apply/bundle/YX-YJS-CS/").content.decode()
    assert "孩子的父母是否已办理结婚登记？" in html and "孩子是在哪里出生的？" in html
    assert "已办理结婚登记" in html and "在医院等医疗机构出生" in html


def test_the_item_guide_shows_worded_conditions(demo_catalog):
    html = Client().get("/catalog/items/QS-CH-GG-0002/").content.decode()
    assert "您现在是失业还是已就业（创业）？ 目前失业" in html
    assert "employment_status" not in html
