from __future__ import annotations

import pytest

from tongban.applications import files
from tongban.applications.errors import ApplicationError
from tongban.applications.models import StoredFile

pytestmark = pytest.mark.django_db


def test_same_content_is_stored_once_outside_web_root(settings):
    a = files.store_bytes(b"%PDF-1.4 same", name="a.pdf", content_type="application/pdf")
    b = files.store_bytes(b"%PDF-1.4 same", name="b.pdf", content_type="application/pdf")
    assert a.pk == b.pk and StoredFile.objects.count() == 1
    path = files.blob_path(a.sha256)
    assert path.exists() and str(path).startswith(str(settings.MEDIA_ROOT))


@pytest.mark.parametrize(("data", "name", "ctype", "code"), [
    (b"MZ\x90\x00", "x.exe", "application/x-msdownload", "file.type_not_allowed"),
    (b"not a pdf", "x.pdf", "application/pdf", "file.type_mismatch"),
    (b"", "x.pdf", "application/pdf", "file.empty"),
    (b"%PDF-1.4 X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*", "v.pdf", "application/pdf",
     "file.infected"),
])
def test_bad_uploads_are_refused_and_nothing_is_stored(data, name, ctype, code):
    with pytest.raises(ApplicationError) as err:
        files.store_bytes(data, name=name, content_type=ctype)
    assert err.value.code == code
    assert StoredFile.objects.count() == 0
    assert not [p for p in files.blob_root().rglob("*") if p.is_file()]


def test_size_limit(settings):
    settings.TONGBAN_MAX_UPLOAD_BYTES = 10
    with pytest.raises(ApplicationError) as err:
        files.store_bytes(b"%PDF-1.4 too long", name="x.pdf", content_type="application/pdf")
    assert err.value.code == "file.too_large"
