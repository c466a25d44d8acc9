"""End to end: an approval issues the business licence with an e-seal; it verifies through the QR page and the
API; it is revoked and every verification path says so at once; the closed case becomes a valid bag."""

from __future__ import annotations

import threading

import pytest
import typer
from django.db import connection
from django.test import Client
from typer.testing import CliRunner

from tongban.core import events
from tongban.core.demo import ID_NUMBERS
from tongban.core.models import User
from tongban.credentials import conf, services
from tongban.credentials.cli import register
from tongban.credentials.models import ArchiveRecord, Credential

from .helpers import page_text


@pytest.mark.django_db
def test_business_licence_from_approval_to_revocation_and_archive(licence_types, company_user, settings, tmp_path):
    settings.TONGBAN_ARCHIVES_DIR = str(tmp_path / "archives")
    events.decision_made.send(
        sender=None, application_ref="YX-2025-001000", item_code="11910100MB0000001X400011001", outcome="approved",
        holder={"kind": "legal", "name": company_user.display_name, "credit_code": ID_NUMBERS["yunxi-tech"],
                "user_id": company_user.pk},
        result={"licence_type": "business_licence", "data": {"legal_representative": "张三",
                                                             "address": "云溪市青山区翠湖路88号"}},
        organisation_code="yx-scjg")
    licence = Credential.objects.get(application_ref="YX-2025-001000")

    holder = Client()
    holder.force_login(company_user)
    pdf = holder.get(f"/api/credentials/{licence.id}/pdf").content
    jws = holder.get(f"/api/credentials/{licence.id}/vc").content.decode()
    qr_target = f"/verify/{licence.id}/"
    assert qr_target in page_text(pdf)  # the QR code and the printed link open the public page

    public = Client()
    assert 'data-status="active"' in public.get(qr_target).content.decode()
    assert public.post("/api/credentials/verify", {"vc": jws}, content_type="application/json").json()["valid"]
    assert public.post("/api/credentials/verify", pdf, content_type="application/pdf").json()["valid"]

    staff = Client()
    staff.force_login(User.objects.get(username="approver-scjg"))
    assert staff.post(f"/api/credentials/{licence.id}/revoke", {"reason": "以欺骗手段取得登记"},
                      content_type="application/json").status_code == 200

    assert 'data-status="revoked"' in public.get(qr_target).content.decode()
    assert public.get(f"/api/credentials/{licence.id}/status").json()["status"] == "revoked"
    for body in (public.post("/api/credentials/verify", {"vc": jws}, content_type="application/json").json(),
                 public.post("/api/credentials/verify", pdf, content_type="application/pdf").json()):
        assert body["valid"] is False and body["code"] == "credentials.revoked"

    events.case_closed.send(sender=None, application_ref="YX-2025-001000",
                            case_file={"form_data": {"name": company_user.display_name}, "materials": [
                                {"name": "章程", "filename": "章程.pdf", "content": "公司章程"}],
                                       "decisions": [{"outcome": "approved"}], "events": []},
                            item_codes=[licence.item_code])
    record = ArchiveRecord.objects.get(application_ref="YX-2025-001000")
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["archive", "verify", record.path])
    assert result.exit_code == 0 and "valid" in result.output
    assert (conf.archives_dir() / "YX-2025-001000" / "data" / "results" / f"{licence.licence_number}.pdf").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only
def test_concurrent_issuance_gets_distinct_numbers_and_status_indices(licence_types):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks, several connections)")
    from django.db import connections

    holder = {"kind": "natural", "name": "张三", "id_number": ID_NUMBERS["zhangsan"]}
    errors: list[BaseException] = []

    def issue() -> None:
        try:
            services.issue_credential("resident_id_card", holder, {})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    issued = Credential.objects.filter(licence_type__code="resident_id_card")
    assert issued.count() == 6
    assert len(set(issued.values_list("licence_number", flat=True))) == 6
    assert sorted(issued.values_list("status_list_index", flat=True)) == list(range(6))
