"""Any city can run it: a second, differently named city (海州市, none of the demo's data) is configured through the
site record and ``TONGBAN_PUBLIC_URL`` only, and a bundle application runs end to end under its own reference
numbers, its own service centre, its own division code and its own links."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from tongban.applications.models import Application
from tongban.applications.results import new_credit_code
from tongban.applications.services.projects import next_project_code
from tongban.catalog import importing
from tongban.core import services as core_services
from tongban.core import site
from tongban.core.models import Division, Organisation, Role, User
from tongban.credentials import services as credential_services
from tongban.credentials.models import Credential
from tongban.credentials.tests.helpers import page_text
from tongban.testing import Api, ok

PASSWORD = "haizhou-test-1"
PUBLIC = "https://zwfw.haizhou.example.gov.cn"
CITIZEN_ID = "320702199203040011"

ORGS = [  # (code, name, kind, parent)
    ("hz-gov", "海州市人民政府", Organisation.Kind.GOVERNMENT, None),
    ("hz-zwb", "海州市政务服务和数据管理局", Organisation.Kind.DEPARTMENT, "hz-gov"),
    ("hz-zx", "海州市民服务中心", Organisation.Kind.SERVICE_CENTRE, "hz-zwb"),
    ("hz-rs", "海州市人力资源和社会保障局", Organisation.Kind.DEPARTMENT, "hz-gov"),
    ("hz-yb", "海州市医疗保障局", Organisation.Kind.DEPARTMENT, "hz-gov"),
]


def _item(code: str, name: str, org: str, **extra: object) -> dict:
    return {"code": code, "name": name, "item_type": "public_service", "competent_department": org,
            "implementing_org": org, "exercise_level": "city", "statutory_limit_days": 10, "promised_limit_days": 5,
            "onsite_visits": 0, "online_level": "fully_online", **extra}


CATALOG = {
    "format": "tongban-catalog/1",
    "items": [
        _item("HZ-RS-GG-01", "社会保障卡申领", "hz-rs", result_name="社会保障卡", result_licence_type="social_security_card",
              result_mapping={"bank": "bank", "card_number": "=literal:HZ00000001"},
              form_schema={"type": "object", "properties": {"bank": {"type": "string", "title": "服务银行"}},
                           "required": ["bank"]}),
        _item("HZ-YB-GG-01", "城乡居民医保参保登记", "hz-yb"),
    ],
    "bundles": [{"code": "HZ-YJS-01", "name": "新市民落户一件事", "lead_department": "hz-zwb", "promised_limit_days": 5,
                 "items": ["HZ-RS-GG-01", "HZ-YB-GG-01"], "optional_items": []}],
}


@pytest.fixture
def haizhou(db, settings, tmp_path):
    settings.TONGBAN_WORKFLOW_INLINE = True
    settings.TONGBAN_PUBLIC_URL = PUBLIC
    core_services.ensure_standard_roles()
    province = core_services.upsert_division("320000000000", "江海省", Division.Level.PROVINCE, None)
    city = core_services.upsert_division("320700000000", "海州市", Division.Level.CITY, province)
    orgs: dict[str, Organisation] = {}
    for code, name, kind, parent in ORGS:
        orgs[code] = core_services.upsert_organisation(code, name, division=city, kind=kind,
                                                       parent=orgs.get(parent) if parent else None)
    site.configure(city_name="海州市", platform_name="海州市政务服务网", division_code="320700",
                   reference_prefix="HZ", reference_format="{prefix}-{date:%Y}-{seq:05d}", service_centre="hz-zx",
                   operator="hz-zwb", hotline="12345", accent_colour="#0b6e4f")
    for username, org, kind in (("hz-citizen", None, User.Kind.NATURAL_PERSON), ("hz-approver-rs", "hz-rs", "staff"),
                                ("hz-approver-yb", "hz-yb", "staff")):
        user = core_services.upsert_user(username, password=PASSWORD, display_name=username, kind=kind,
                                         organisation=orgs.get(org) if org else None,
                                         id_number=CITIZEN_ID if org is None else "")
        if org:
            core_services.grant_role(user, Role.APPROVER, orgs[org])
    credential_services.ensure_licence_types()
    path = tmp_path / "haizhou.json"
    path.write_text(json.dumps(CATALOG, ensure_ascii=False), encoding="utf-8")
    importing.load_catalog(path, reason="海州市目录")


def test_a_second_city_runs_a_bundle_with_its_own_numbers_centre_and_links(haizhou):
    citizen = Api("hz-citizen", PASSWORD)
    app = ok(citizen.post("/api/applications", {"bundle_code": "HZ-YJS-01"}), 201)
    year = timezone.localdate().year
    assert re.fullmatch(rf"HZ-{year}-\d{{5}}", app["ref"]), app["ref"]  # its own prefix and format
    ref = app["ref"]
    submitted = ok(citizen.post(f"/api/applications/{ref}/submit", {"form_data": {"bank": "海州农商银行"}}))
    assert submitted["status"] == "in_review"  # fully online, nothing missing: accepted at once

    acceptance = Application.objects.get(ref=ref).notices.get(kind="acceptance")
    assert acceptance.content["issuer"] == "海州市民服务中心"  # its own coordinating centre
    verify_link = f"{PUBLIC}/notices/verify/{acceptance.code}/"
    pdf = citizen.get(f"/api/applications/{ref}/notices/{acceptance.code}.pdf")
    text = page_text(b"".join(pdf.streaming_content) if pdf.streaming else pdf.content)
    assert verify_link in text and "云溪" not in text
    page = Client().get(verify_link.removeprefix(PUBLIC)).content.decode()  # the printed link opens the check
    assert "海州市民服务中心" in page and "云溪" not in page

    for approver in ("hz-approver-rs", "hz-approver-yb"):
        api = Api(approver, PASSWORD)
        [task] = [t for t in ok(api.get("/api/workbench/tasks")) if t["application_ref"] == ref]
        ok(api.post(f"/api/workbench/tasks/{task['id']}/decide", {"outcome": "approve", "opinion": "同意"}))
    assert Application.objects.get(ref=ref).status == "approved"

    licence = Credential.objects.get(application_ref=ref)
    wallet = ok(citizen.get("/api/credentials/wallet"))["items"]
    [mine] = [c for c in wallet if c["id"] == str(licence.id)]
    assert mine["links"]["verify"] == f"{PUBLIC}/verify/{licence.id}/"
    assert all(link.startswith(f"{PUBLIC}/") for link in mine["links"].values())
    licence_pdf = citizen.get(f"/api/credentials/{licence.id}/pdf")
    licence_text = page_text(b"".join(licence_pdf.streaming_content) if licence_pdf.streaming
                             else licence_pdf.content)
    assert mine["links"]["verify"] in licence_text and "海州市政务服务网" in licence_text
    assert "云溪" not in licence_text and "127.0.0.1" not in licence_text
    assert 'data-status="active"' in Client().get(f"/verify/{licence.id}/").content.decode()

    home = Client().get("/").content.decode()
    assert "海州市政务服务网" in home and "海州市政务服务和数据管理局" in home and "云溪" not in home
    assert Client().get("/site.css").content.decode().strip() == ":root { --accent: #0b6e4f; }"
    assert next_project_code().startswith(f"{year}-320700-00-01-")
    assert new_credit_code()[2:8] == "320700"


def test_a_bad_site_value_is_refused_and_changes_nothing(haizhou):
    from django.core.exceptions import ValidationError

    for bad in ({"reference_format": "{prefix}{date:%Y}"}, {"division_code": "32070"},
                {"accent_colour": "red"}, {"logo": "https://cdn.example.com/logo.png"}):
        with pytest.raises(ValidationError):
            site.configure(**bad)
    assert site.current().reference_prefix == "HZ" and site.current().division_code == "320700"
    assert site.reference_stem(timezone.localtime()) == (f"HZ-{timezone.localdate().year}-", 5)


DEMO_CITY = re.compile(r"云溪|青山区|翠湖|石桥|\byx-[a-z]|\bqs-[a-z]|\bYX\d|\bYX-|910100")


def test_no_module_outside_demo_data_names_the_demo_city():
    """The demo city lives in demo data only (``demo.py``, ``demo/``), in tests, translations and the classifier's
    training corpus (``feedback/data``); code, templates and static files are the same for every city."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found = []
    for path in root.rglob("*"):
        if path.suffix not in {".py", ".html", ".js", ".css", ".bpmn", ".json", ".txt"} or not path.is_file():
            continue
        parts = set(path.relative_to(root).parts)
        if parts & {"tests", "demo", "locale", "data", "migrations", "vendor"} or path.name == "demo.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if DEMO_CITY.search(line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()[:100]}")
    assert not found, "\n".join(found)
