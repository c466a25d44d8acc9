"""PAdES e-seals (电子印章) on PDFs with pyHanko, and their validation against the platform root CA.

Signing: PAdES baseline B-B (``/SubFilter /ETSI.CAdES.detached``), no timestamp authority, with the
organisation's ECDSA P-256 seal certificate (issued by the platform root CA) and the root embedded.
Validation: pyHanko's ``validate_pdf_signature`` with the platform root as the only trust anchor; the
signature must be cryptographically valid, the document intact and the signature must cover the whole file.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .render import SUBJECT_PREFIX

logger = logging.getLogger(__name__)

FIELD_NAME = "TongbanSeal"


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def sign_pdf(pdf: bytes, *, private_key: ec.EllipticCurvePrivateKey, certificate_pem: str,
             root_certificate: x509.Certificate, signer_name: str, reason: str = "电子证照签章",
             location: str = "") -> bytes:
    """Seal ``pdf`` with a PAdES B-B signature made by ``private_key`` / ``certificate_pem``."""
    cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    signer = signers.SimpleSigner(
        signing_cert=_asn1_cert(cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(root_certificate)]),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, subfilter=fields.SigSeedSubFilter.PADES, reason=reason, location=location or None,
        name=signer_name, md_algorithm="sha256",
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = io.BytesIO()
    signers.PdfSigner(meta, signer=signer).sign_pdf(writer, output=out)
    return out.getvalue()


@dataclass
class PdfSealCheck:
    ok: bool
    code: str  # "" when ok, else a credentials.* error code
    reason: str
    credential_id: str = ""
    signer: str = ""
    signed_at: str = ""
    details: dict[str, object] = field(default_factory=dict)


def credential_id_of(reader: PdfFileReader) -> str:
    try:
        info = reader.trailer_view["/Info"]
        subject = str(info["/Subject"]) if "/Subject" in info else ""
    except Exception:  # noqa: BLE001 - a missing or broken info dictionary means "no id"
        return ""
    return subject[len(SUBJECT_PREFIX):] if subject.startswith(SUBJECT_PREFIX) else ""


def validate_pdf(pdf: bytes, trust_roots: list[x509.Certificate]) -> PdfSealCheck:
    """Check the PAdES seal of ``pdf`` (trust anchors: ``trust_roots``) and name the credential it carries."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # noqa: BLE001 - any parse failure of untrusted input is "malformed"
        return PdfSealCheck(False, "credentials.malformed_pdf", f"无法解析该 PDF 文件：{exc}")
    if not signatures:
        return PdfSealCheck(False, "credentials.unsigned_pdf", "该 PDF 没有电子印章（未签名）")
    named = credential_id_of(reader)  # reported on failures too: "this file claims to be credential X"
    context = ValidationContext(trust_roots=[_asn1_cert(c) for c in trust_roots], allow_fetching=False)
    checks = []
    for embedded in signatures:
        try:
            status = validate_pdf_signature(embedded, context)
        except Exception as exc:  # noqa: BLE001 - a mangled signature container is a bad signature
            return PdfSealCheck(False, "credentials.bad_signature", f"电子印章无法校验：{exc}", credential_id=named)
        checks.append(status)
    status = checks[-1]
    signer = status.signing_cert.subject.human_friendly if status.signing_cert is not None else ""
    signed_at = status.signer_reported_dt.isoformat() if status.signer_reported_dt else ""
    details: dict[str, object] = {
        "intact": status.intact, "valid": status.valid, "trusted": status.trusted,
        "coverage": status.coverage.name if status.coverage else "",
        "modification_level": status.modification_level.name if status.modification_level else "",
        "signatures": len(checks),
    }
    if not all(s.intact for s in checks):
        return PdfSealCheck(False, "credentials.pdf_altered", "文件内容在盖章后被改动（文档摘要与电子印章不符）",
                            credential_id=named, signer=signer, signed_at=signed_at, details=details)
    if not all(s.valid for s in checks):
        return PdfSealCheck(False, "credentials.bad_signature", "电子印章签名无效（签名值与证书不符）",
                            credential_id=named, signer=signer, signed_at=signed_at, details=details)
    if not all(s.trusted for s in checks):
        return PdfSealCheck(False, "credentials.untrusted_seal", "电子印章证书不是由本平台根证书签发的",
                            credential_id=named, signer=signer, signed_at=signed_at, details=details)
    if status.coverage is None or status.coverage.name != "ENTIRE_FILE":
        return PdfSealCheck(False, "credentials.pdf_modified", "盖章后文件被追加修改（电子印章未覆盖整个文件）",
                            credential_id=named, signer=signer, signed_at=signed_at, details=details)
    return PdfSealCheck(True, "", "电子印章有效，文件未被改动",
                        credential_id=named, signer=signer, signed_at=signed_at, details=details)
