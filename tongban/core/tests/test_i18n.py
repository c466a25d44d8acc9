"""Chinese by default, English when the user picks it (issue 2): the frame, the home page and the public catalogue
pages are translated, data (item and organisation names) is not, and the English catalogue is complete and compiled.
"""

from __future__ import annotations

import ast
import gettext
import importlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation.template import templatize
from rich.console import Console

ROOT = Path(__file__).resolve().parents[2]  # the tongban package
LOCALE = ROOT / "locale" / "en" / "LC_MESSAGES"
ITEM = "YX-SCJG-XK-0002-01"  # 食品经营许可证核发: situations, materials, marks
# Every file whose interface text is translated: each msgid they mark must be in the compiled English catalogue.
TEMPLATES = [ROOT / "templates" / "base.html", ROOT / "templates" / "registration" / "login.html",
             ROOT / "core" / "templates" / "core" / "home.html",
             *sorted((ROOT / "catalog" / "templates" / "catalog").glob("*.html"))]
PYTHON = [ROOT / "context_processors.py", ROOT / "catalog" / "models.py"]


@pytest.fixture
def catalog_demo(demo_core):
    # Looked up by name like ``tongban demo`` does: core's code (tests included) does not import a later context.
    importlib.import_module("tongban.catalog.demo").load(Console(quiet=True))


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.django_db
def test_public_pages_in_english_with_the_language_cookie(english, catalog_demo):
    home = _html(english, "/")
    assert '<html lang="en">' in home
    assert ">Service guide</a>" in home and ">Power lists</a>" in home and ">Apply</a>" in home  # navigation
    assert "Yunxi City Online Government Services" in home and "One-thing bundles" in home
    assert "办事指南" not in home and "权责清单" not in home
    assert '<option value="zh-hans" lang="zh-hans">简体中文</option>' in home  # each language in its own name

    index = _html(english, "/catalog/")
    assert "Service guide · Catalogue of government service items" in index
    assert re.search(r"\d+ items, page 1 of \d+", index)
    assert ">Administrative licensing</option>" in index and "Keywords" in index  # model choices, filters
    found = _html(english, "/catalog/?q=食品经营许可证核发")
    assert "1 item, page 1 of 1</p>" in found and "食品经营许可证核发" in found  # data stays as it is

    guide = _html(english, f"/catalog/items/{ITEM}/")
    for text in ("Basic information", "Application materials", "Situations and the materials they need",
                 "Situation 1: ", "Promised time limit", "working days", "Administrative licensing",
                 "Handling item (New)", "Source: Provided by the applicant", "Apply online"):
        assert text in guide, text
    assert "基本信息" not in guide and "申请材料" not in guide
    assert "食品经营许可证核发" in guide

    lists = _html(english, "/lists/")
    assert "Published power and responsibility lists" in lists and "Departments with published lists" in lists
    page = _html(english, "/lists/yx-scjg/")
    assert re.search(r"Power list \(\d+ entries\)", page) and re.search(r"Responsibility list \(\d+ entries\)", page)
    assert "<strong>Version 2</strong> · in force from 2026-07-01" in page and "Compare with v1" in page
    assert "权力清单" not in page
    diff = _html(english, "/lists/yx-scjg/diff/?from=1&to=2")
    assert "power lists v1 → v2" in diff and re.search(r"Powers: \d+ added, \d+ removed, \d+ changed", diff)
    bundles = _html(english, "/catalog/bundles/")
    assert "One-thing bundles" in bundles and "items: " in bundles
    assert "Log in" in _html(english, "/accounts/login/") and "Demo accounts" in _html(english, "/accounts/login/")


@pytest.mark.django_db
def test_public_pages_in_chinese_without_the_cookie(client, catalog_demo):
    home = _html(client, "/")
    assert '<html lang="zh-hans">' in home and ">办事指南</a>" in home and ">权责清单</a>" in home
    assert "Service guide" not in home
    guide = _html(client, f"/catalog/items/{ITEM}/")
    assert "基本信息" in guide and "行政许可" in guide and "业务办理项（新设）" in guide and "情形1：" in guide
    assert "Basic information" not in guide and "Administrative licensing" not in guide
    page = _html(client, "/lists/yx-scjg/")
    assert re.search(r"权力清单（\d+ 项）", page) and "Power list" not in page
    # A browser asking for English does not switch a government service to English by itself.
    assert "基本信息" in client.get(f"/catalog/items/{ITEM}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.django_db
def test_the_language_switch_turns_pages_english_and_back(client, catalog_demo):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/catalog/"})
    assert response.status_code == 302 and response["Location"] == "/catalog/"
    assert "Service guide · Catalogue" in _html(client, "/catalog/")
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/catalog/"})
    assert "办事指南 · 政务服务事项目录" in _html(client, "/catalog/")


# --- the catalogue itself -----------------------------------------------------------------------------------


def _po_entries(path: Path) -> list[dict]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (a list: one per plural form), flags."""
    entries: list[dict] = []
    entry: dict = {}
    field = None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if "msgid" in entry:
                entries.append(entry)
            entry, field = {}, None
        elif line.startswith("#,"):
            entry.setdefault("flags", set()).update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(entry.get(field), list):
                entry[field][-1] += value
            else:
                entry[field] += value
        else:
            keyword, _, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if keyword.startswith("msgstr"):
                field = "msgstr"
                entry.setdefault("msgstr", []).append(value)
            else:
                field = keyword
                entry[keyword] = value
    return entries


def _marked_in_templates(path: Path) -> set[tuple[str | None, str, str | None]]:
    """(context, msgid, plural) marked for translation in a template, as makemessages finds them."""
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    found = set()
    for name, args in re.findall(r"\b(n?p?gettext)\(((?:\s*u?'(?:[^'\\]|\\.)*'\s*,?)+)", code):
        strings = [ast.literal_eval(s) for s in re.findall(r"u?'(?:[^'\\]|\\.)*'", args)]
        context = strings.pop(0) if name.startswith(("pgettext", "npgettext")) else None
        found.add((context, strings[0], strings[1] if len(strings) > 1 else None))
    return found


def _marked_in_python(path: Path) -> set[tuple[str | None, str, str | None]]:
    names = {"_", "gettext", "gettext_lazy", "gettext_noop"}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add((None, node.args[0].value, None))
    return found


def test_po_file_is_fully_translated():
    entries = [e for e in _po_entries(LOCALE / "django.po") if e["msgid"]]  # the header has an empty msgid
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"]) or "fuzzy" in e.get("flags", ())]
    assert untranslated == []
    for e in entries:  # every placeholder of the msgid is kept in the translation
        for text in e["msgstr"]:
            assert set(re.findall(r"%\(\w+\)s", e["msgid"])) == set(re.findall(r"%\(\w+\)s", text)), e["msgid"]


def test_compiled_catalogue_matches_the_po_file():
    """django.mo is part of the source (no gettext at run time): it must say what django.po says."""
    with open(LOCALE / "django.mo", "rb") as f:
        mo = gettext.GNUTranslations(f)
    for e in _po_entries(LOCALE / "django.po"):
        if not e["msgid"]:
            continue
        key = f"{e['msgctxt']}\x04{e['msgid']}" if "msgctxt" in e else e["msgid"]
        if "msgid_plural" in e:
            assert [mo._catalog.get((key, i)) for i in range(2)] == e["msgstr"], e["msgid"]
        else:
            assert mo._catalog.get(key) == e["msgstr"][0], e["msgid"]


def test_every_marked_text_of_the_translated_files_is_in_the_catalogue():
    with open(LOCALE / "django.mo", "rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog
    marked = set().union(*(_marked_in_templates(p) for p in TEMPLATES), *(_marked_in_python(p) for p in PYTHON))
    assert len(marked) > 200 and (None, "办事指南", None) in marked and ("list separator", "、", None) in marked
    missing = []
    for context, msgid, plural in marked:
        key = f"{context}\x04{msgid}" if context else msgid
        if not (catalog.get((key, 0)) if plural else catalog.get(key)):
            missing.append(msgid)
    assert missing == [], "run makemessages -l en, translate, compilemessages"
