from __future__ import annotations

import json

import bagit
import pytest
import typer
from typer.testing import CliRunner

from tongban.core import events
from tongban.credentials import conf
from tongban.credentials.archive import build_archive, verify_archive
from tongban.credentials.cli import register
from tongban.credentials.errors import InvalidData
from tongban.credentials.models import ArchiveRecord

runner = CliRunner()


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _case(tmp_path) -> dict:
    material = tmp_path / "id-card.jpg"
    material.write_bytes(b"\xff\xd8 fake jpeg of an ID card")
    return {
        "application_ref": "YX-2025-000123",
        "item_codes": ["ITEM-BL", "ITEM-FOOD"],
        "organisation": "云溪市政务服务中心",
        "closed_at": "2025-06-30T16:00:00+08:00",
        "form_data": {"company_name": "云溪星火科技有限公司", "address": "翠湖路88号"},
        "materials": [{"name": "法定代表人身份证", "filename": "id-card.jpg", "path": str(material)},
                      {"name": "住所使用证明", "filename": "../../lease.txt", "content": "租赁合同：翠湖路88号"}],
        "decisions": [{"item_code": "ITEM-BL", "outcome": "approved", "by": "陈审批"}],
        "events": [{"at": "2025-06-28T09:00:00+08:00", "kind": "submitted"}],
    }


def test_build_makes_a_valid_bag_with_manifests_and_bag_info(tmp_path):
    path = build_archive(_case(tmp_path), 30, tmp_path / "archives")
    assert path.name == "YX-2025-000123"
    bag = bagit.Bag(str(path))
    assert set(bag.algorithms) == {"sha256", "sha512"}
    assert (path / "manifest-sha256.txt").exists() and (path / "manifest-sha512.txt").exists()
    assert bag.info["External-Identifier"] == "YX-2025-000123"
    assert bag.info["Source-Organization"] == "云溪市政务服务中心"
    assert bag.info["Tongban-Retention-Until"] == "2055-06-30"
    assert bag.info["Tongban-Item-Code"] == ["ITEM-BL", "ITEM-FOOD"]
    assert "Bagging-Date" in bag.info
    payload = sorted(bag.payload_files())
    assert "data/materials/01-id-card.jpg" in payload and "data/materials/02-lease.txt" in payload
    assert json.loads((path / "data" / "form.json").read_text())["company_name"] == "云溪星火科技有限公司"
    check = verify_archive(path)
    assert check.valid and check.file_count == len(payload) == 6


@pytest.mark.django_db  # a case naming no organisation is archived under the site's operator (core/site.py)
def test_bad_cases_are_refused(tmp_path):
    with pytest.raises(InvalidData):
        build_archive({}, 10, tmp_path)
    with pytest.raises(InvalidData):
        build_archive({"application_ref": "A"}, 0, tmp_path)
    with pytest.raises(InvalidData):
        build_archive({"application_ref": "A", "materials": [{"name": "x", "path": str(tmp_path / "nope")}]}, 10,
                      tmp_path / "a")
    assert not list((tmp_path / "a").iterdir())  # no half-built bag left behind
    build_archive({"application_ref": "B"}, 10, tmp_path)
    with pytest.raises(InvalidData) as info:
        build_archive({"application_ref": "B"}, 10, tmp_path)
    assert info.value.code == "credentials.archive_exists"


def test_cli_verify_valid_then_changed_missing_extra_and_tag_tampering(tmp_path):
    app = _cli()
    path = build_archive(_case(tmp_path), 10, tmp_path / "archives")
    ok = runner.invoke(app, ["archive", "verify", str(path)])
    assert ok.exit_code == 0 and "valid" in ok.output and "6 files" in ok.output

    changed = path / "data" / "materials" / "01-id-card.jpg"
    original = changed.read_bytes()
    changed.write_bytes(original[:-1] + b"X")  # same size: only the checksums can tell
    result = runner.invoke(app, ["archive", "verify", str(path)])
    assert result.exit_code == 1 and "data/materials/01-id-card.jpg" in result.output and "sha256" in result.output
    changed.write_bytes(original)

    (path / "data" / "decisions.json").unlink()
    result = runner.invoke(app, ["archive", "verify", str(path)])
    assert result.exit_code == 1 and "data/decisions.json" in result.output and "缺失" in result.output


def test_extra_file_and_bag_info_tampering_are_detected(tmp_path):
    app = _cli()
    path = build_archive(_case(tmp_path), 10, tmp_path / "archives")
    (path / "data" / "smuggled.txt").write_text("extra")
    result = runner.invoke(app, ["archive", "verify", str(path)])
    assert result.exit_code == 1 and "data/smuggled.txt" in result.output
    (path / "data" / "smuggled.txt").unlink()
    assert runner.invoke(app, ["archive", "verify", str(path)]).exit_code == 0
    info = path / "bag-info.txt"
    info.write_text(info.read_text().replace("Tongban-Retention-Until: 2035", "Tongban-Retention-Until: 2025"))
    result = runner.invoke(app, ["archive", "verify", str(path)])
    assert result.exit_code == 1 and "bag-info.txt" in result.output
    assert runner.invoke(app, ["archive", "verify", str(tmp_path / "nothing")]).exit_code != 0


@pytest.mark.django_db
def test_case_closed_builds_the_archive_with_the_signed_results(business_licence, settings, tmp_path):
    settings.TONGBAN_ARCHIVES_DIR = str(tmp_path / "archives")
    events.case_closed.send(sender=None, application_ref=business_licence.application_ref,
                            case_file={"form_data": {"name": "云溪星火科技有限公司"}, "decisions": [], "events": [],
                                       "materials": []},
                            item_codes=[business_licence.item_code])
    record = ArchiveRecord.objects.get(application_ref=business_licence.application_ref)
    path = tmp_path / "archives" / business_licence.application_ref
    assert record.path == str(path) and conf.archives_dir() == tmp_path / "archives"
    results = path / "data" / "results"
    assert (results / f"{business_licence.licence_number}.pdf").read_bytes() == (
        conf.media_root() / business_licence.pdf_path).read_bytes()
    assert (results / f"{business_licence.licence_number}.vc.jwt").read_text() == business_licence.vc_jws
    assert verify_archive(path).valid
    assert record.retention_until.year == business_licence.issued_at.year + 30
    # delivered twice: still one archive
    events.case_closed.send(sender=None, application_ref=business_licence.application_ref, case_file={},
                            item_codes=[])
    assert ArchiveRecord.objects.count() == 1


@pytest.mark.django_db
def test_a_leftover_bag_without_a_record_is_kept_and_a_new_one_made(business_licence):
    ref = business_licence.application_ref
    leftover = conf.archives_dir() / ref
    leftover.mkdir(parents=True)
    (leftover / "note.txt").write_text("an older bag")
    events.case_closed.send(sender=None, application_ref=ref, case_file={}, item_codes=[])
    record = ArchiveRecord.objects.get(application_ref=ref)
    assert record.path != str(leftover) and record.path.startswith(str(conf.archives_dir() / ref))
    assert (leftover / "note.txt").exists() and verify_archive(record.path).valid
