"""E-seal keys (电子印章密钥): the platform root CA and one set of signing keys per organisation.

Layout under ``settings.KEYS_DIR/credentials`` (files 0600, directories 0700, never in the DB or the repo)::

    root-ca.key.pem                      platform root CA private key (ECDSA P-256)
    root-ca.cert.pem                     platform root CA certificate (self-signed, the trust anchor)
    orgs/<org code>/<kid>.key.pem        an organisation's private key (Ed25519 / P-256 PEM, SM2 hex)

Per organisation there is one *active* key per algorithm: Ed25519 signs the VCs (JWS, alg EdDSA), ECDSA
P-256 with a seal certificate issued by the root CA seals the PDFs (PAdES), SM2 (only when
``TONGBAN_SEAL_ALGORITHM=sm2``) adds the national-algorithm signature. Rotation retires the active keys
and creates new ones; retired keys keep verifying (they stay in the JWKS with their kid).

How each algorithm makes and reads a key is a :class:`SealBackend` in :data:`SEAL_BACKENDS` (a
:class:`~tongban.core.registry.Registry` keyed by ``SealKey.Algorithm``).
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID
from django.db import transaction
from django.utils import timezone

from tongban.core.models import Organisation, User
from tongban.core.registry import Registry
from tongban.core.services import audit

from . import conf, sm2
from .errors import KeyMissing, NotFound
from .models import SealKey

logger = logging.getLogger(__name__)

ROOT_KEY = "root-ca.key.pem"
ROOT_CERT = "root-ca.cert.pem"
ROOT_VALIDITY_YEARS = 30
SEAL_CERT_VALIDITY_YEARS = 10


# --- files -------------------------------------------------------------------------------------------

def _ensure_dir(path: Path) -> Path:
    """Create ``path`` (0700), and make every directory between it and the key root 0700 too."""
    path.mkdir(parents=True, exist_ok=True)
    root = conf.keys_dir()
    current = path
    while True:
        current.chmod(0o700)
        if current == root or root not in current.parents:
            break
        current = current.parent
    return path


def _write_private(path: Path, content: bytes) -> None:
    """Write a private file with mode 0600 atomically (never world-readable, not even briefly)."""
    _ensure_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, content)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _spki_der(public_key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def private_key_path(key: SealKey) -> Path:
    return conf.keys_dir() / "orgs" / key.organisation.code / f"{key.kid}.key.pem"


# --- platform root CA --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RootCA:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


def _name(common_name: str, organisation: str, unit: str = "") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)]
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _load_root(key_path: Path, cert_path: Path) -> RootCA:
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return RootCA(key, cert)


def root_ca() -> RootCA:
    """The platform root CA (created on first use under KEYS_DIR; creation is serialised by a file lock)."""
    base = _ensure_dir(conf.keys_dir())
    key_path, cert_path = base / ROOT_KEY, base / ROOT_CERT
    if key_path.exists() and cert_path.exists():
        return _load_root(key_path, cert_path)
    with open(base / ".root-ca.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if key_path.exists() and cert_path.exists():  # another process made it meanwhile
                return _load_root(key_path, cert_path)
            return _create_root(key_path, cert_path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _create_root(key_path: Path, cert_path: Path) -> RootCA:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("通办平台电子印章根证书 tongban Root CA", "通办 tongban 政务服务平台")
    now = timezone.now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * ROOT_VALIDITY_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _pkcs8(key))
    _write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    cert_path.chmod(0o644)
    logger.info("created the platform root CA under %s", key_path.parent)
    return RootCA(key, cert)


def _issue_seal_certificate(org: Organisation, public_key: ec.EllipticCurvePublicKey) -> x509.Certificate:
    root = root_ca()
    now = timezone.now()
    return (
        x509.CertificateBuilder()
        .subject_name(_name(f"{org.name} 电子印章", org.name, org.code))
        .issuer_name(root.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * SEAL_CERT_VALIDITY_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(root.key, hashes.SHA256())
    )


# --- seal backends (one per signature algorithm) ------------------------------------------------------

@dataclass(frozen=True)
class NewKey:
    """Key material a backend made: the public key's bytes (hashed into the kid), the private key file,
    the public key as stored, and the seal certificate (P-256 only)."""

    public_bytes: bytes
    private_file: bytes
    public_key_pem: str
    certificate_pem: str = ""


@dataclass(frozen=True)
class SealBackend:
    """How one signature algorithm makes an organisation's key and reads its private key file back."""

    algorithm: str  # a SealKey.Algorithm value
    short: str  # its name in key ids: ``<org code>.<short>.<hash>``
    generate: Callable[[Organisation], NewKey]
    load: Callable[[bytes], Any]


SEAL_BACKENDS: Registry[str, SealBackend] = Registry("电子印章签名后端 seal backends")


def _pkcs8(private: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


def _public_pem(public: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _new_ed25519(org: Organisation) -> NewKey:
    private = ed25519.Ed25519PrivateKey.generate()
    return NewKey(_spki_der(private.public_key()), _pkcs8(private), _public_pem(private.public_key()))


def _new_p256(org: Organisation) -> NewKey:
    private = ec.generate_private_key(ec.SECP256R1())
    cert = _issue_seal_certificate(org, private.public_key())
    return NewKey(_spki_der(private.public_key()), _pkcs8(private), _public_pem(private.public_key()),
                  cert.public_bytes(serialization.Encoding.PEM).decode())


def _new_sm2(org: Organisation) -> NewKey:
    private_hex, public_hex = sm2.generate_keypair()
    return NewKey(bytes.fromhex(public_hex), sm2.private_key_file(private_hex), public_hex)


def _load_pem(raw: bytes) -> ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey:
    private = serialization.load_pem_private_key(raw, password=None)
    assert isinstance(private, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey)
    return private


for _backend in (SealBackend(SealKey.Algorithm.ED25519, "ed25519", _new_ed25519, _load_pem),
                 SealBackend(SealKey.Algorithm.P256, "p256", _new_p256, _load_pem),
                 SealBackend(SealKey.Algorithm.SM2, "sm2", _new_sm2, sm2.read_private_key_file)):
    SEAL_BACKENDS.register(_backend.algorithm, _backend)


# --- organisation keys -------------------------------------------------------------------------------

def _create_key(org: Organisation, algorithm: str) -> SealKey:
    backend = SEAL_BACKENDS.get(algorithm)
    new = backend.generate(org)
    kid = f"{org.code}.{backend.short}.{_b64url(hashlib.sha256(new.public_bytes).digest())[:12]}"
    key = SealKey(organisation=org, kid=kid, algorithm=algorithm, public_key_pem=new.public_key_pem,
                  certificate_pem=new.certificate_pem)
    _write_private(private_key_path(key), new.private_file)
    key.save()
    return key


def required_algorithms() -> list[str]:
    algorithms = [SealKey.Algorithm.ED25519, SealKey.Algorithm.P256]
    if conf.seal_algorithm() == "sm2":
        algorithms.append(SealKey.Algorithm.SM2)
    return algorithms


def usable(key: SealKey) -> bool:
    """An active key can sign only if its private file exists (and a seal certificate chains to the root)."""
    if not private_key_path(key).exists():
        return False
    if key.algorithm == SealKey.Algorithm.P256:
        cert = x509.load_pem_x509_certificate(key.certificate_pem.encode())
        root = root_ca().certificate
        if cert.issuer != root.subject:
            return False
        try:
            cert.verify_directly_issued_by(root)
        except (InvalidSignature, ValueError, TypeError):
            return False
    return True


@transaction.atomic
def ensure_org_keys(org: Organisation) -> dict[str, SealKey]:
    """The organisation's active key per required algorithm, created when missing (idempotent).

    An active key whose private file is gone (or whose seal certificate no longer chains to the root CA)
    is retired and replaced: it cannot sign any more, but it still verifies what it signed.
    """
    Organisation.objects.select_for_update().filter(pk=org.pk).first()
    result: dict[str, SealKey] = {}
    for algorithm in required_algorithms():
        key = SealKey.objects.filter(organisation=org, algorithm=algorithm, retired_at__isnull=True).first()
        if key is not None and not usable(key):
            logger.warning("seal key %s cannot sign any more (private key missing or untrusted); replacing", key.kid)
            key.retired_at = timezone.now()
            key.save(update_fields=["retired_at"])
            audit("credentials.seal_key_replaced", obj=key, reason="private key missing or certificate untrusted",
                  detail={"organisation": org.code, "kid": key.kid})
            key = None
        if key is None:
            key = _create_key(org, algorithm)
        result[algorithm] = key
    return result


@transaction.atomic
def rotate_org_keys(org_code: str, *, actor: User | None = None, reason: str = "") -> list[SealKey]:
    """Retire the organisation's active keys and create new ones (old keys stay valid for verification)."""
    org = Organisation.objects.select_for_update().filter(code=org_code).first()
    if org is None:
        raise NotFound(f"机构“{org_code}”不存在", code="credentials.organisation_not_found")
    now = timezone.now()
    old = list(SealKey.objects.filter(organisation=org, retired_at__isnull=True))
    SealKey.objects.filter(pk__in=[k.pk for k in old]).update(retired_at=now)
    new = [_create_key(org, algorithm) for algorithm in required_algorithms()]
    audit("credentials.rotate_key", actor=actor, object_type="core.organisation", object_id=str(org.pk),
          reason=reason, detail={"organisation": org.code, "retired": [k.kid for k in old],
                                 "created": [k.kid for k in new]})
    return new


def load_private_key(key: SealKey) -> ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | str:
    """The private key of ``key`` (an SM2 key is returned as its hex scalar)."""
    path = private_key_path(key)
    if not path.exists():
        raise KeyMissing(f"机构“{key.organisation.code}”的签名私钥缺失（{key.kid}），请执行 "
                         f"tongban credentials rotate-key {key.organisation.code}")
    return SEAL_BACKENDS.get(key.algorithm).load(path.read_bytes())
