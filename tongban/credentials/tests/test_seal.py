"""The sealed PDF: Chinese text, QR link, PAdES signature validated with pyHanko's own validation API."""

from __future__ import annotations

import datetime as dt
import io
import random

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from tongban.credentials import conf, keys, seal, selectors
from tongban.credentials.seal import _asn1_cert

from .conftest import COMPANY
from .helpers import page_fonts, page_text

pytestmark = pytest.mark.django_db


def _pdf(credential) -> bytes:
    return (conf.media_root() / credential.pdf_path).read_bytes()


def _pyhanko_status(pdf: bytes, roots):
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    context = ValidationContext(trust_roots=[_asn1_cert(r) for r in roots], allow_fetching=False)
    return validate_pdf_signature(reader.embedded_signatures[0], context)


def test_pdf_has_chinese_text_in_the_builtin_cid_font(business_licence):
    pdf = _pdf(business_licence)
    assert "/STSong-Light" in page_fonts(pdf)
    text = page_text(pdf)
    for expected in ("营业执照", COMPANY, "统一社会信用代码", "法定代表人", "张三", "云溪市市场监督管理局",
                     business_licence.licence_number, "长期", "扫码核验"):
        assert expected in text, expected
    assert selectors.verify_url(business_licence.id) in text


def test_pades_signature_is_valid_trusted_and_covers_the_whole_file(business_licence):
    status = _pyhanko_status(_pdf(business_licence), [keys.root_ca().certificate])
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.signing_cert.subject.native["organization_name"] == "云溪市市场监督管理局"
    reader = PdfFileReader(io.BytesIO(_pdf(business_licence)))
    sig = reader.embedded_signatures[0]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES


def test_one_changed_byte_anywhere_in_the_signed_ranges_breaks_the_seal(business_licence):
    pdf = _pdf(business_licence)
    reader = PdfFileReader(io.BytesIO(pdf))
    byte_range = list(reader.embedded_signatures[0].sig_object["/ByteRange"])
    start1, len1, start2, len2 = byte_range
    positions = [pdf.index(b"stream") + 40]  # inside the page content
    rng = random.Random(20250301)
    positions += [rng.randrange(start1, start1 + len1) for _ in range(6)]
    positions += [rng.randrange(start2, start2 + len2) for _ in range(3)]
    root = keys.root_ca().certificate
    for pos in positions:
        tampered = bytearray(pdf)
        tampered[pos] = (tampered[pos] + 1) % 256
        check = seal.validate_pdf(bytes(tampered), [root])
        assert not check.ok, pos
    # and pyHanko itself says "not intact" for the content change
    tampered = bytearray(pdf)
    tampered[positions[0]] ^= 0x01
    assert not _pyhanko_status(bytes(tampered), [root]).intact


def test_a_foreign_root_is_not_trusted(business_licence):
    other_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "别的根证书")])
    now = dt.datetime.now(dt.UTC)
    other_root = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(other_key.public_key())
                  .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
                  .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                  .sign(other_key, hashes.SHA256()))
    check = seal.validate_pdf(_pdf(business_licence), [other_root])
    assert not check.ok and check.code == "credentials.untrusted_seal"


def test_an_incremental_update_after_sealing_is_detected(business_licence):
    pdf = _pdf(business_licence)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page = writer.root["/Pages"]["/Kids"][0]
    page["/Rotate"] = generic.NumberObject(90)  # e.g. someone "just" rotates the page afterwards
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    modified = out.getvalue()
    assert len(modified) > len(pdf)
    check = seal.validate_pdf(modified, [keys.root_ca().certificate])
    assert not check.ok and check.code in {"credentials.pdf_modified", "credentials.pdf_altered"}


def test_garbage_and_unsigned_pdfs():
    root = keys.root_ca().certificate
    assert seal.validate_pdf(b"%PDF-1.4 garbage", [root]).code == "credentials.malformed_pdf"
    from tongban.credentials import render

    unsigned = render.render_pdf(render.LicenceView(
        credential_id="x", title="测试证照", licence_number="T-1", holder_label="持证人", holder_name="张三",
        holder_id_label="公民身份号码", holder_id_number="1", fields=[], issuer_name="测试机关",
        issued_on=dt.date(2025, 1, 1), valid_from=dt.date(2025, 1, 1), valid_until=None,
        verify_url="http://x/verify/x/"))
    assert seal.validate_pdf(unsigned, [root]).code == "credentials.unsigned_pdf"
