"""The upload extension check: the file name's extension, the declared type and the magic bytes must agree
(docs/applications.md), through the service, the JSON API and the fill page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tongban.applications import files
from tongban.applications.errors import ApplicationError
from tongban.applications.models import Application, StoredFile
from tongban.testing import Api, ok

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% extension check\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def nothing_stored() -> bool:
    return StoredFile.objects.count() == 0 and not [p for p in files.blob_root().rglob("*") if p.is_file()]


@pytest.mark.parametrize(("name", "ctype", "data", "code"), [
    ("evil.html", "application/pdf", PDF, "file.extension_not_allowed"),
    ("evil.html", None, PDF, "file.type_not_allowed"),  # no declared type and no known extension
    ("evil.HTM", "application/octet-stream", PDF, "file.type_not_allowed"),
    ("evil.svg", "image/png", PNG, "file.extension_not_allowed"),
    ("evil.pdf.exe", "application/pdf", PDF, "file.extension_not_allowed"),
    ("evil.pdf.", "application/pdf", PDF, "file.extension_not_allowed"),
    ("noextension", "application/pdf", PDF, "file.extension_not_allowed"),
    ("photo.png", "application/pdf", PDF, "file.extension_mismatch"),
    ("scan.pdf", "image/png", PNG, "file.extension_mismatch"),
    ("scan.jpg", "image/png", PNG, "file.extension_mismatch"),
    # the extension agrees with the declared type but not with the content: the magic-byte check still holds
    ("scan.png", "image/png", PDF, "file.type_mismatch"),
    ("x.exe", "application/pdf", b"MZ\x90\x00", "file.type_mismatch"),  # content is checked before the name
])
def test_extension_must_match_an_allowed_type_and_the_content(name, ctype, data, code):
    with pytest.raises(ApplicationError) as err:
        files.store([data], name=name, content_type=ctype)
    assert err.value.code == code, err.value.message
    assert err.value.status == 400
    assert nothing_stored()


def test_extension_message_is_clear():
    with pytest.raises(ApplicationError) as err:
        files.store_bytes(PDF, name="evil.html", content_type="application/pdf")
    assert err.value.message == ("文件“evil.html”的扩展名“.html”不在允许之列，"
                                 "请上传扩展名为 .pdf、.jpg、.jpeg、.png 或 .ofd 的文件")
    assert err.value.detail == {"extension": ".html", "allowed": [".pdf", ".jpg", ".jpeg", ".png", ".ofd"]}
    with pytest.raises(ApplicationError) as err:
        files.store_bytes(PDF, name="scan", content_type="application/pdf")
    assert err.value.message.startswith("文件“scan”没有扩展名，请上传扩展名为 .pdf、")
    with pytest.raises(ApplicationError) as err:
        files.store_bytes(PDF, name="photo.png", content_type="application/pdf")
    assert err.value.message == "文件“photo.png”的扩展名“.png”与文件类型“application/pdf”不符"


@pytest.mark.parametrize(("name", "ctype", "data"), [
    ("scan.pdf", "application/pdf", PDF), ("SCAN.PDF", "application/pdf", PDF), ("scan.pdf", None, PDF),
    ("scan.pdf", "application/octet-stream", PDF), ("photo.PNG", "image/png", PNG),
    ("archive.v2.pdf", "application/pdf; charset=binary", PDF),
])
def test_matching_extensions_are_accepted(name, ctype, data):
    stored = files.store([data], name=name, content_type=ctype)
    assert stored.original_name == name and files.blob_path(stored.sha256).read_bytes() == data


def test_api_refuses_html_named_pdf(small_catalog):
    zhang = Api("zhangsan")
    app = ok(zhang.post("/api/applications", {"item_code": "T-SHOP-01"}), 201)
    url = f"/api/applications/{app['ref']}/materials/name:申请人身份证明/file"
    bad = zhang.upload(url, PDF, name="evil.html")
    assert bad.status_code == 400
    body = bad.json()
    assert body["code"] == "file.extension_not_allowed" and "evil.html" in body["message"]
    assert body["detail"]["extension"] == ".html"
    assert nothing_stored()
    detail = ok(zhang.get(f"/api/applications/{app['ref']}"))
    [row] = [m for m in detail["materials"] if m["name"] == "申请人身份证明"]
    assert row["status"] == "missing"
    # the same bytes under a .pdf name are accepted
    good = ok(zhang.upload(url, PDF, name="id.pdf"))
    assert good["status"] != "missing" and StoredFile.objects.count() == 1


def test_fill_page_shows_the_extension_error(client, small_catalog, users):
    client.force_login(users["zhangsan"])
    response = client.post(reverse("applications:apply_bundle", args=["T-BUNDLE"]), {"q-1": "租赁"})
    assert response.status_code == 302
    app = Application.objects.get(ref=response["Location"].rstrip("/").split("/")[-2])
    first = app.materials.filter(status="missing").first()
    response = client.post(reverse("applications:fill", args=[app.ref]), {
        "applicant_name": "张三", "applicant_phone": "13800000000", "shop_address": "翠湖路1号",
        "shop_area_sqm": "80", "action": "save",
        f"file-{first.pk}": SimpleUploadedFile("evil.html", PDF, content_type="application/pdf"),
    })
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="file-{first.pk}-error">文件“evil.html”的扩展名“.html”不在允许之列' in page
    assert app.materials.get(pk=first.pk).status == "missing"
    assert nothing_stored()
