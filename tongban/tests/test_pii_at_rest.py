"""Personal data at rest (docs/privacy.md): after the whole demo data set and a case with personal form data are
loaded, no demo ID number, phone number or address is in the database in clear: neither in the bytes of the
SQLite file nor in any row on PostgreSQL. Also: the applications' encrypted columns, and the data migration that
encrypts rows written before encryption existed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.db import connection

from tongban.core import crypto, pii
from tongban.core.models import User
from tongban.core.tests.isolated import installations, postgres_base_url

ROOT = Path(__file__).resolve().parents[1]
ID = "910101199001011234"
PHONE = "13912345678"
ADDRESS = "云溪市青山区翠湖街道幸福里8号"

# Every personal identity number the demo modules contain (read from their source, so a new demo person cannot
# slip past this test). Unified social credit codes of market entities are not personal information: they are
# public register data (国家企业信用信息公示系统) and supervision's market-entity register keeps them in clear.
_ID_PATTERN = re.compile(r"\b9\d{5}(?:19|20)\d{9}[\dX]\b")
DEMO_IDS = sorted({m for path in ROOT.glob("*/demo.py") for m in _ID_PATTERN.findall(path.read_text())})

LOAD = f"""
from rich.console import Console
from tongban.demo import load_demo
from tongban.core.models import User
from tongban.applications.models import Application, ApplicationMaterial, ProxyAuthorisation
from tongban.core.models import Organisation
from tongban.supervision.models import PostCheck
load_demo(Console(quiet=True))
zhang = User.objects.get(username="zhangsan")
zhang.phone = "{PHONE}"
zhang.save()
app = Application.objects.create(
    ref="PII-1", title="个人信息测试", applicant=zhang, applicant_name="张三", applicant_id_number=zhang.id_number,
    applicant_phone="{PHONE}", form_data={{"household_address": "{ADDRESS}", "mother_id_number": "910102199203052346",
                                           "applicant_phone": "{PHONE}"}})
ApplicationMaterial.objects.create(application=app, key="hukou", name="户口簿",
                                   evidence={{"id_number": zhang.id_number, "household_address": "{ADDRESS}"}})
ProxyAuthorisation.objects.create(principal=zhang, principal_name="张三", principal_id_number=zhang.id_number,
                                  agent=User.objects.get(username="lisi"), scope="全部", valid_until="2099-12-31")
PostCheck.objects.create(application_ref=app.ref, subject_id_number=zhang.id_number, subject_name="张三",
                         department=Organisation.objects.filter(kind="department").first(), due_on="2099-12-31")
# a consent and data-exchange queries through the API (granted and refused: both in the access log)
from django.test import Client
from tongban.exchange import services
from tongban.exchange.demo import DEMO_CLIENT_KEY
services.give_consent(subject_id=zhang.id_number, code="household_register", consumer_org="yx-rsj",
                      purpose="就业登记", case_ref="PII-1", user=zhang)
client = Client()
codes = [client.post("/api/exchange/query", body, content_type="application/json",
                     headers={{"X-Tongban-Client": DEMO_CLIENT_KEY}}).status_code for body in (
    {{"resource": "business_register", "subject_id": "91910100MA1YX0001K", "purpose": "单位社会保险登记"}},
    {{"resource": "household_register", "subject_id": zhang.id_number, "purpose": "没有授权的查询"}})]
print(codes)
# a process started with personal data in its variables
from tongban.workflow import services as workflow
workflow.start("permit_single", "PII-WF-1", {{"applicant_name": "张三", "applicant_id": zhang.id_number,
                                              "applicant_phone": "{PHONE}", "address": "{ADDRESS}"}}, zhang)
print("loaded")
"""

READ_BACK = """
from tongban.core import pii
from tongban.core.models import User
from tongban.applications.models import Application
from tongban.credentials.models import Credential
zhang = User.objects.get(pii.matching("id_number", "{id}"))
app = Application.objects.get(pii.matching("applicant_id_number", "{id}"))
print(zhang.username, zhang.phone, app.form_data["household_address"],
      Credential.objects.filter(pii.matching("holder_id_number", "{id}")).count())
"""

NEEDLES = [*DEMO_IDS, PHONE, ADDRESS]


def test_the_demo_ids_are_known():
    assert {"910102199001011234", "91010219880315432X", "910102199203052346"} <= set(DEMO_IDS)
    assert "91910100MA1YX0001K" not in DEMO_IDS  # a company's credit code: public register data


def _rows_in_clear_postgres(url: str) -> list[str]:
    import psycopg

    found = []
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        for table in tables:
            for (text,) in conn.execute(f'SELECT row_to_json(t)::text FROM "{table}" t'):  # noqa: S608
                decoded = json.loads(text)  # JSON escapes (\\u...) undone: what a reader of the row would see
                flat = json.dumps(decoded, ensure_ascii=False)
                found += [f"{table}: {n}" for n in NEEDLES if n in flat or n in text]
    return found


ENGINES = [
    pytest.param(False, id="sqlite"),
    pytest.param(None, id="postgresql", marks=[
        pytest.mark.postgres_only,
        pytest.mark.skipif(postgres_base_url() is None, reason="needs PostgreSQL (DATABASE_URL)")]),
]


@pytest.mark.parametrize("postgres", ENGINES)
def test_no_demo_id_number_phone_or_address_in_clear_in_the_database(tmp_path, postgres):
    with installations(tmp_path, postgres=postgres) as make:
        site = make("site")
        site.tongban("migrate")
        loaded = site.python(LOAD).strip().splitlines()
        assert loaded[-2:] == ["[200, 403]", "loaded"], loaded
        log = site.tongban("exchange", "verify-log").stdout  # the leaf hashes cover the decrypted subject ids
        # the demo's evidence fetches and the 免申即享 policy reading shared data write entries; all are checked
        waiting = re.search(r"awaiting sequencing \(checked, not yet in the tree\): (\d+)", log)
        assert waiting is not None and int(waiting.group(1)) >= 2 and "all valid" in log, log
        zhang = "910102199001011234"
        assert site.python(READ_BACK.format(id=zhang)).split() == ["zhangsan", PHONE, ADDRESS, "3"]
        status = site.tongban("keys", "pii-status").stdout
        assert "core_user.id_number:" in status and "clear=" not in status, status

        if site.database_url is None:
            files = [p for p in site.home.glob("tongban.sqlite3*") if p.is_file()]
            raw = b"".join(p.read_bytes() for p in files)
            assert raw.startswith(b"SQLite format 3") and len(raw) > 100_000
            # as UTF-8, and as JSON with \\u escapes (which would hide Chinese text from a plain byte search)
            found = [n for n in NEEDLES if n.encode() in raw or json.dumps(n)[1:-1].encode() in raw]
        else:
            found = _rows_in_clear_postgres(site.database_url)
        assert found == [], f"personal data in clear: {found}"


# --- the fields of the applications context, in this process ----------------------------------------------


def _raw(model, pk, column):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_application_columns_are_encrypted_and_found_by_hash_across_relations():
    from tongban.applications.models import Application, ProxyAuthorisation

    user = User.objects.create(username="p1", id_number=ID)
    app = Application.objects.create(ref="T-1", title="t", applicant=user, applicant_name="张三",
                                     applicant_id_number=ID, applicant_phone=PHONE,
                                     form_data={"household_address": ADDRESS, "n": 1})
    stored = _raw(Application, app.pk, "form_data")
    assert stored.startswith("pii1:") and "幸福里" not in stored
    assert ID not in _raw(Application, app.pk, "applicant_id_number")
    assert PHONE not in _raw(Application, app.pk, "applicant_phone")
    Application.objects.filter(pk=app.pk).update(form_data={"child_id_number": ID})
    assert Application.objects.get(pk=app.pk).form_data == {"child_id_number": ID}
    assert ID not in _raw(Application, app.pk, "form_data")
    assert Application.objects.create(ref="T-2", title="t", applicant_name="李四",
                                      applicant_id_number=ID).form_data == {}
    assert set(Application.objects.filter(pii.matching("applicant_id_number", ID)).values_list("ref", flat=True)) == {
        "T-1", "T-2"}
    assert list(Application.objects.filter(pii.matching("applicant__id_number", ID))) == [app]
    proxy = ProxyAuthorisation.objects.create(principal=user, principal_name="张三", principal_id_number=ID,
                                              agent=User.objects.create(username="agent"), scope="全部",
                                              valid_until="2099-01-01")
    assert list(ProxyAuthorisation.objects.filter(pii.matching("principal_id_number", ID))) == [proxy]


@pytest.mark.django_db(transaction=True)
def test_the_data_migrations_encrypt_rows_stored_in_clear_and_reverse():
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    from tongban.applications.models import Application
    from tongban.exchange import accesslog
    from tongban.exchange.models import AccessLogEntry, Consent, ProviderRecord

    before = [("core", "0001_initial"), ("applications", "0001_initial"), ("credentials", "0001_initial"),
              ("exchange", "0001_initial")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("core", "User").objects.create(username="legacy", id_number=ID, phone=PHONE)
    app = old.get_model("applications", "Application").objects.create(
        ref="L-1", title="t", applicant_name="张三", applicant_id_number=ID, applicant_phone=PHONE,
        form_data={"address": ADDRESS, "id": ID})
    resource = old.get_model("exchange", "DataResource").objects.create(
        code="r", name="r", owner=old.get_model("core", "Organisation").objects.create(
            code="o", name="o", division=old.get_model("core", "Division").objects.create(
                code="910000", name="d", level="province")), subject_field="id_number", schema={})
    record = old.get_model("exchange", "ProviderRecord").objects.create(resource=resource, subject_id=ID,
                                                                          data={"id_number": ID})
    consent = old.get_model("exchange", "Consent").objects.create(subject_id=ID, code="r", consumer=resource.owner,
                                                                  purpose="p")
    entry = old.get_model("exchange", "AccessLogEntry")(
        at=timezone.now(), actor="a", consumer_org="o", source="shared", resource="r", subject_id=ID, purpose="p",
        fields=["id_number"], masked_fields=[], outcome="granted")
    entry.leaf_hash = accesslog.compute_leaf_hash(entry)
    entry.save()
    assert _raw(User, user.pk, "id_number") == ID

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    for model, pk, columns in ((User, user.pk, ("id_number", "phone")),
                               (Application, app.pk, ("applicant_id_number", "applicant_phone", "form_data")),
                               (ProviderRecord, record.pk, ("subject_id", "data")),
                               (Consent, consent.pk, ("subject_id",)), (AccessLogEntry, entry.pk, ("subject_id",))):
        for column in columns:
            assert crypto.is_encrypted(_raw(model, pk, column)), (model, column)
    assert User.objects.filter(pii.matching("id_number", ID)).get().phone == PHONE
    assert Application.objects.filter(pii.matching("applicant_id_number", ID)).get().form_data == {
        "address": ADDRESS, "id": ID}
    assert ProviderRecord.objects.filter(pii.matching("subject_id", ID)).get().data == {"id_number": ID}
    assert Consent.objects.filter(pii.matching("subject_id", ID)).get().pk == consent.pk
    stored = AccessLogEntry.objects.filter(pii.matching("subject_id", ID)).get()
    assert stored.leaf_hash == entry.leaf_hash == accesslog.compute_leaf_hash(stored)  # the log still verifies

    executor = MigrationExecutor(connection)  # and back: the columns hold the values in clear again
    executor.migrate(before)
    assert _raw(User, user.pk, "id_number") == ID and _raw(Application, app.pk, "applicant_phone") == PHONE
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
