"""The demo catalogue of 云溪市 (tongban/catalog/demo/catalog.json) is valid and complete.

These tests read the file directly (no database): it must satisfy the import schema
(schemas/catalog.schema.json, format "tongban-catalog/1") and the semantic rules the later issues rely on
(bundles, merged forms, 告知承诺制, 容缺受理, evidence fetched from departments, e-licences).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tongban.catalog.models import Bundle, Material, PowerEntry, ResponsibilityEntry, ServiceItem, Situation
from tongban.core.demo import ID_NUMBERS, ORGANISATIONS

CATALOG_DIR = Path(__file__).resolve().parents[1]
DATA_PATH = CATALOG_DIR / "demo" / "catalog.json"
SCHEMA_PATH = CATALOG_DIR / "schemas" / "catalog.schema.json"

ORG_CODES = {code for code, *_ in ORGANISATIONS}
TOWN_CENTRES = {"qs-ch-bmfw", "qs-sq-bmfw"}
VILLAGE_CENTRES = {"qs-ch-sq"}
ITEM_TYPES = {"licensing", "confirmation", "adjudication", "payment", "reward", "filing", "other_power",
              "public_service"}
# The shared data resources of the exchange context (issue 5) and the e-licence types of the credentials
# context (tongban/credentials/licence_types.py); the catalogue names them by these codes.
DATA_RESOURCES = {"household_register", "business_register", "social_insurance", "real_estate_register",
                  "birth_medical_certificate"}
LICENCE_TYPES = {"business_licence", "food_operation_licence", "birth_medical_certificate",
                 "public_gathering_fire_safety", "outdoor_signboard", "social_security_card", "resident_id_card",
                 "household_register_booklet", "vaccination_certificate"}
ARTICLE = re.compile(r"^第[一二三四五六七八九十百千零]+条$")
CJK = re.compile(r"[\u4e00-\u9fff]")
PHONE = re.compile(r"0999-\d{7}")


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return json.loads(DATA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def items(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["code"]: i for i in data["items"]}


def _forms(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(i["code"], i["form_schema"]) for i in data["items"] if i.get("form_schema")]


# --- the file as a whole ----------------------------------------------------------------------------


def test_file_is_valid_against_the_import_schema(data):
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []
    assert data["format"] == "tongban-catalog/1"


def test_every_organisation_code_exists_in_the_demo_city(data):
    used: set[str] = set()
    for i in data["items"]:
        used |= {i["competent_department"], i["implementing_org"]}
        used |= {m["issuing_department"] for m in i.get("materials", []) if m.get("issuing_department")}
    used |= {b["lead_department"] for b in data["bundles"] if b.get("lead_department")}
    used |= {d["organisation"] for d in data["duty_lists"]}
    assert used - ORG_CODES == set()


def test_codes_are_unique(data):
    codes = Counter(i["code"] for i in data["items"])
    assert [c for c, n in codes.items() if n > 1] == []
    assert len({b["code"] for b in data["bundles"]}) == len(data["bundles"])
    for i in data["items"]:
        for key in ("materials", "situations"):
            entries = [e["code"] for e in i.get(key, [])]
            assert len(entries) == len(set(entries)), (i["code"], key)


def test_counts_types_departments_and_levels(data):
    all_items = data["items"]
    assert len(all_items) >= 45
    assert {i["item_type"] for i in all_items} == ITEM_TYPES
    departments = {i["competent_department"] for i in all_items} | {i["implementing_org"] for i in all_items}
    assert len(departments - TOWN_CENTRES - VILLAGE_CENTRES) >= 10
    township = [i for i in all_items if i["exercise_level"] == "township"]
    village = [i for i in all_items if i["exercise_level"] == "village"]
    assert len(township) >= 5 and all(i["implementing_org"] in TOWN_CENTRES for i in township)
    assert len(village) >= 2 and all(i["implementing_org"] in VILLAGE_CENTRES for i in village)
    assert {"city", "county"} <= {i["exercise_level"] for i in all_items}
    assert {i["online_level"] for i in all_items} == {"fully_online", "at_most_once", "onsite"}
    assert all(i["status"] == "published" for i in all_items)


def test_text_fits_the_model_fields(data):
    def fits(model: type, obj: dict[str, Any], where: str) -> None:
        for field in model._meta.get_fields():
            limit = getattr(field, "max_length", None)
            value = obj.get(field.name)
            if limit and isinstance(value, str):
                assert len(value) <= limit, f"{where}.{field.name}: {len(value)} > {limit}"

    for i in data["items"]:
        fits(ServiceItem, i, i["code"])
        for m in i.get("materials", []):
            fits(Material, m, f"{i['code']}/{m['code']}")
        for s in i.get("situations", []):
            fits(Situation, s, f"{i['code']}/{s['code']}")
    for b in data["bundles"]:
        fits(Bundle, b, b["code"])
    for d in data["duty_lists"]:
        for p in d["powers"]:
            fits(PowerEntry, p, p["code"])
        for r in d["responsibilities"]:
            fits(ResponsibilityEntry, r, r["code"])


# --- guide elements -----------------------------------------------------------------------------------


def test_guide_elements_are_filled_in_chinese(data):
    for i in data["items"]:
        assert CJK.search(i["name"]), i["code"]
        assert i.get("legal_basis"), i["code"]
        assert i.get("conditions") and i.get("handling_place") and i.get("handling_hours"), i["code"]
        assert i.get("result_name") and i.get("service_object"), i["code"]
        assert "12345" in i["consultation"] and PHONE.search(i["consultation"]), i["code"]
        assert "12345" in i["complaint"] and PHONE.search(i["complaint"]), i["code"]
        assert i["onsite_visits"] <= 1, i["code"]
    # Items an applicant actually applies for (no children) list their materials and process steps.
    parents = {i.get("parent") for i in data["items"]}
    leaves = [i for i in data["items"] if i["code"] not in parents]
    assert [i["code"] for i in leaves if not (i.get("materials") and i.get("process_steps"))] == []


def test_legal_basis_names_a_law_and_only_well_formed_articles(data):
    for i in data["items"]:
        for basis in i["legal_basis"]:
            assert basis["law"].startswith("《") and "》" in basis["law"], (i["code"], basis["law"])
            assert basis.get("text"), (i["code"], basis["law"])
            if basis.get("article"):
                assert ARTICLE.match(basis["article"]), (i["code"], basis["article"])


def test_promised_limit_is_within_the_statutory_limit_and_the_steps(data):
    for i in data["items"]:
        statutory, promised = i.get("statutory_limit_days"), i.get("promised_limit_days")
        if statutory is not None and promised is not None:
            assert promised <= statutory, i["code"]
        counted = sum(s.get("days", 0) for s in i.get("process_steps", []) if not s.get("excluded"))
        if promised is not None and i.get("process_steps"):
            assert counted <= promised, f"{i['code']}: steps need {counted} days, promise is {promised}"


def test_some_items_have_excluded_special_steps(data):
    with_excluded = [i for i in data["items"] if any(s.get("excluded") for s in i.get("process_steps", []))]
    assert len(with_excluded) >= 8
    names = " ".join(s["name"] for i in with_excluded for s in i["process_steps"] if s.get("excluded"))
    for kind in ("公示", "听证", "专家", "核查", "评估"):
        assert kind in names


def test_fees(data):
    charged = [i for i in data["items"] if i.get("fee_required")]
    assert charged
    for i in charged:
        assert i["fees"] and all(f.get("standard") and f.get("basis") for f in i["fees"]), i["code"]


# --- hierarchy --------------------------------------------------------------------------------------


def test_hierarchy_main_sub_handling(data, items):
    seen: set[str] = set()
    for i in data["items"]:
        parent = i.get("parent")
        if i["node"] == "main":
            assert parent is None, i["code"]
        else:
            assert parent in seen, f"{i['code']}: parent {parent} missing or listed after the child"
            assert items[parent]["node"] in ({"main"} if i["node"] == "sub" else {"main", "sub"}), i["code"]
            assert items[parent]["item_type"] == i["item_type"], i["code"]
        assert bool(i.get("handling_kind")) == (i["node"] == "handling"), i["code"]
        seen.add(i["code"])

    def handling_kinds(code: str) -> set[str]:
        kids = [c for c in data["items"] if c.get("parent") == code]
        return {c["handling_kind"] for c in kids if c["handling_kind"]} | set().union(
            *(handling_kinds(c["code"]) for c in kids))

    families = {i["code"]: handling_kinds(i["code"]) for i in data["items"] if i["node"] == "main"}
    assert sum(1 for kinds in families.values() if kinds) >= 2
    assert any(kinds == {"new", "change", "renew", "cancel"} for kinds in families.values())
    subs_with_handling = [i for i in data["items"] if i["node"] == "sub" and handling_kinds(i["code"])]
    assert subs_with_handling, "at least one main → sub → handling chain"


# --- materials and situations -----------------------------------------------------------------------


def test_material_sources_are_consistent(data):
    for i in data["items"]:
        for m in i.get("materials", []):
            where = f"{i['code']}/{m['code']}"
            if m["source"] == "issued":
                assert m.get("issuing_department") and m.get("licence_type") in LICENCE_TYPES, where
                assert not m.get("data_resource"), where
            elif m["source"] == "shared":
                assert m.get("data_resource") in DATA_RESOURCES, where
                assert not m.get("licence_type"), where
            else:
                assert not m.get("licence_type") and not m.get("data_resource"), where
            if m.get("commitment_replaceable"):
                assert i.get("commitment_allowed"), where
    used = {m.get("data_resource") for i in data["items"] for m in i.get("materials", [])}
    assert used >= DATA_RESOURCES


def test_tolerable_and_commitment_materials(data):
    tolerable = [i["code"] for i in data["items"]
                 if any(m["requirement"] == "tolerable" for m in i.get("materials", []))]
    assert len(tolerable) >= 6
    commitment = [i["code"] for i in data["items"] if i.get("commitment_allowed")
                  and any(m.get("commitment_replaceable") for m in i.get("materials", []))]
    assert len(commitment) >= 4


def test_situations_select_the_items_own_materials(data):
    with_situations = 0
    for i in data["items"]:
        situations = i.get("situations", [])
        codes = {m["code"] for m in i.get("materials", [])}
        for s in situations:
            assert s["materials"], (i["code"], s["code"])
            assert set(s["materials"]) <= codes, (i["code"], s["code"], set(s["materials"]) - codes)
            assert s["conditions"] and all(
                isinstance(k, str) and isinstance(v, str) for k, v in s["conditions"].items()), (i["code"], s["code"])
        answers = [tuple(sorted(s["conditions"].items())) for s in situations]
        assert len(answers) == len(set(answers)), f"{i['code']}: two situations have the same answers"
        if 2 <= len(situations) <= 3:
            with_situations += 1
    assert with_situations >= 8


# --- bundles ------------------------------------------------------------------------------------------


def test_bundles_span_departments(data, items):
    assert len(data["bundles"]) >= 3
    for b in data["bundles"]:
        assert set(b["items"]) <= set(items), b["code"]
        assert set(b.get("optional_items", [])) <= set(b["items"]), b["code"]
        departments = {items[c]["competent_department"] for c in b["items"]}
        assert len(departments) >= 3, b["code"]
        fetched = [m for c in b["items"] for m in items[c].get("materials", []) if m["source"] in ("issued", "shared")]
        assert fetched, f"{b['code']}: no material can be fetched from a department"


@pytest.mark.parametrize(("name", "departments"), [
    ("开办企业一件事", {"yx-scjg", "yx-ga", "yx-sw", "yx-rsj", "yx-gjj"}),
    ("出生一件事", {"yx-wsjk", "yx-ga", "yx-ybj", "yx-rsj"}),
    ("餐饮店开店一件事", {"yx-scjg", "yx-xf", "yx-cg"}),
], ids=["business-start", "birth", "restaurant"])
def test_the_three_issue_bundles(data, items, name, departments):
    bundle = next(b for b in data["bundles"] if b["name"] == name)
    found = {items[c]["competent_department"] for c in bundle["items"]}
    found |= {"yx-scjg" for c in bundle["items"] if items[c]["competent_department"] == "qs-scjg"}
    assert departments <= found


# --- forms ------------------------------------------------------------------------------------------------


def test_every_form_is_a_valid_json_schema(data):
    forms = _forms(data)
    for code, schema in forms:
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object", code
        props = schema["properties"]
        assert set(schema["required"]) <= set(props), code
        for name, prop in props.items():
            assert CJK.search(prop.get("title", "")) and prop.get("type"), (code, name)


def test_bundle_items_and_others_have_forms(data):
    in_bundles = {c for b in data["bundles"] for c in b["items"]}
    with_form = {c for c, _ in _forms(data)}
    assert in_bundles <= with_form
    assert len(with_form - in_bundles) >= 5


def test_forms_share_one_vocabulary(data):
    definitions: dict[str, dict[str, Any]] = {}
    for code, schema in _forms(data):
        for name, prop in schema["properties"].items():
            first = definitions.setdefault(name, prop)
            assert first == prop, f"{code}: property {name} differs from its first definition"
    assert definitions["applicant_id_number"]["pattern"]
    assert definitions["applicant_phone"]["pattern"]
    assert definitions["unified_credit_code"]["pattern"]
    for name, prop in definitions.items():
        if name.endswith("_id_number"):
            assert prop["pattern"] == definitions["applicant_id_number"]["pattern"], name
        if name.endswith("_date"):
            assert prop.get("format") == "date", name


def test_patterns_accept_the_demo_identities_and_reject_bad_ones(data):
    props = {n: p for _, s in _forms(data) for n, p in s["properties"].items()}

    def ok(name: str, value: str) -> bool:
        return re.search(props[name]["pattern"], value) is not None

    assert ok("applicant_id_number", ID_NUMBERS["zhangsan"]) and ok("applicant_id_number", ID_NUMBERS["lisi"])
    assert ok("unified_credit_code", ID_NUMBERS["yunxi-tech"])
    assert ok("applicant_phone", "13800001234")
    assert not ok("applicant_id_number", "91010219900101123")  # 17 characters
    assert not ok("applicant_id_number", "910102199013011234")  # month 13
    assert not ok("applicant_phone", "2380000123")
    assert not ok("unified_credit_code", "91910100MA1YX0001")


def test_bundle_forms_merge_common_fields(data, items):
    for b in data["bundles"]:
        usage: dict[str, set[str]] = defaultdict(set)
        for code in b["items"]:
            for name in items[code]["form_schema"]["properties"]:
                usage[name].add(code)
        shared = [n for n, codes in usage.items() if len(codes) >= 2]
        minimum = 3 if b["code"] == "YX-YJS-KBQY" else 2
        assert len(shared) >= minimum, (b["code"], shared)


# --- power and responsibility lists -------------------------------------------------------------------


def test_duty_lists_cover_organisations_with_powers_and_responsibilities(data, items):
    lists = data["duty_lists"]
    assert len({d["organisation"] for d in lists}) >= 8
    first = {}
    for d in lists:
        first.setdefault(d["organisation"], d)
        assert 4 <= len(d["powers"]) <= 8, d["organisation"]
        codes = [p["code"] for p in d["powers"]]
        assert len(codes) == len(set(codes)), d["organisation"]
        per_power = Counter(r["power_code"] for r in d["responsibilities"])
        assert set(per_power) == set(codes), d["organisation"]
        assert all(1 <= n <= 2 for n in per_power.values()), d["organisation"]
        resp_codes = [r["code"] for r in d["responsibilities"]]
        assert len(resp_codes) == len(set(resp_codes)), d["organisation"]
        for p in d["powers"]:
            if p.get("item_code"):
                assert p["item_code"] in items, p["code"]
                assert items[p["item_code"]]["item_type"] == p["power_type"], p["code"]
    assert {d["effective_date"] for d in first.values()} == {"2026-01-01"}


def test_second_scjg_version_adds_removes_and_changes_a_power(data):
    versions = [d for d in data["duty_lists"] if d["organisation"] == "yx-scjg"]
    assert len(versions) == 2
    v1, v2 = versions
    assert data["duty_lists"].index(v1) < data["duty_lists"].index(v2)
    assert v2["effective_date"] == "2026-07-01" > v1["effective_date"]
    assert v2["change_reason"]
    old = {p["code"]: p for p in v1["powers"]}
    new = {p["code"]: p for p in v2["powers"]}
    assert set(new) - set(old), "a power is added"
    assert set(old) - set(new), "a power is removed"
    assert [c for c in set(old) & set(new) if old[c] != new[c]], "a power is changed"
