from __future__ import annotations

import stat

import pytest
from cryptography import x509

from tongban.core.models import AuditLog, Organisation
from tongban.credentials import conf, keys
from tongban.credentials.errors import NotFound
from tongban.credentials.models import SealKey

pytestmark = pytest.mark.django_db


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_org_keys_are_created_once_with_private_halves_only_under_keys_dir(demo_core):
    org = Organisation.objects.get(code="yx-scjg")
    first = keys.ensure_org_keys(org)
    again = keys.ensure_org_keys(org)
    assert {a: k.kid for a, k in first.items()} == {a: k.kid for a, k in again.items()}
    assert set(first) == {SealKey.Algorithm.ED25519, SealKey.Algorithm.P256}
    for key in first.values():
        path = keys.private_key_path(key)
        assert path.is_file() and _mode(path) == 0o600
        assert conf.keys_dir() in path.parents
        assert _mode(path.parent) == 0o700 and _mode(path.parent.parent) == 0o700
        assert "PRIVATE" not in key.public_key_pem and "PRIVATE" not in key.certificate_pem
        assert key.kid.startswith("yx-scjg.")
    root_key = conf.keys_dir() / keys.ROOT_KEY
    assert _mode(root_key) == 0o600


def test_seal_certificate_is_issued_by_the_platform_root(demo_core):
    org = Organisation.objects.get(code="yx-wsjk")
    key = keys.ensure_org_keys(org)[SealKey.Algorithm.P256]
    cert = x509.load_pem_x509_certificate(key.certificate_pem.encode())
    root = keys.root_ca().certificate
    cert.verify_directly_issued_by(root)
    assert org.name in cert.subject.rfc4514_string()
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_rotation_retires_old_keys_and_creates_new_ones(demo_core):
    org = Organisation.objects.get(code="yx-scjg")
    old = keys.ensure_org_keys(org)
    new = keys.rotate_org_keys("yx-scjg", reason="年度轮换")
    assert {k.algorithm for k in new} == {SealKey.Algorithm.ED25519, SealKey.Algorithm.P256}
    for key in old.values():
        key.refresh_from_db()
        assert key.retired_at is not None
    active = keys.ensure_org_keys(org)
    assert {k.kid for k in active.values()} == {k.kid for k in new}
    assert AuditLog.objects.filter(action="credentials.rotate_key", reason="年度轮换").count() == 1
    with pytest.raises(NotFound):
        keys.rotate_org_keys("no-such-org")


def test_a_key_whose_private_file_is_lost_is_replaced(demo_core):
    org = Organisation.objects.get(code="yx-ga")
    key = keys.ensure_org_keys(org)[SealKey.Algorithm.ED25519]
    keys.private_key_path(key).unlink()
    replacement = keys.ensure_org_keys(org)[SealKey.Algorithm.ED25519]
    assert replacement.kid != key.kid
    key.refresh_from_db()
    assert key.retired_at is not None  # still listed for verification


def test_sm2_option_adds_an_sm2_key(demo_core, settings):
    settings.TONGBAN_SEAL_ALGORITHM = "sm2"
    org = Organisation.objects.get(code="yx-rsj")
    created = keys.ensure_org_keys(org)
    sm2_key = created[SealKey.Algorithm.SM2]
    assert sm2_key.public_key_pem.startswith("04")
    assert len(keys.load_private_key(sm2_key)) == 64


def test_seal_keys_are_made_and_read_by_the_registered_backend(demo_core):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from tongban.core.registry import DuplicateRegistration

    def generate(org):
        private = ed25519.Ed25519PrivateKey.generate()
        return keys.NewKey(keys._spki_der(private.public_key()), keys._pkcs8(private),
                           keys._public_pem(private.public_key()))

    org = Organisation.objects.get(code="yx-ga")
    with keys.SEAL_BACKENDS.isolated():
        with pytest.raises(DuplicateRegistration):
            keys.SEAL_BACKENDS.register(SealKey.Algorithm.ED25519, keys.SealBackend("Ed25519", "x", generate, bytes))
        keys.SEAL_BACKENDS.register("TEST", keys.SealBackend("TEST", "test", generate, lambda raw: ("loaded", raw)))
        key = keys._create_key(org, "TEST")
        assert key.kid.startswith("yx-ga.test.") and _mode(keys.private_key_path(key)) == 0o600
        loaded, raw = keys.load_private_key(key)
        assert loaded == "loaded" and b"PRIVATE KEY" in raw
    assert "TEST" not in keys.SEAL_BACKENDS
    assert {k for k in keys.SEAL_BACKENDS} == set(SealKey.Algorithm.values)
