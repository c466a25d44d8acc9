"""Signing keys of the exchange, kept outside the database under ``settings.KEYS_DIR / "exchange"``.

- ``log-signing.pem``: Ed25519 key that signs tree heads of the access log;
- ``request-signing.pem``: Ed25519 key that signs requests to remote providers (JWS), published in
  the platform JWKS at ``/api/exchange/jwks.json``.

Keys are created on first use (file mode 0600). A key id is the first 32 hex digits of SHA-256 of the
raw public key. Retired log keys may be kept next to the current one as ``log-signing-*.pem`` so old
tree heads still verify.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from joserfc.jwk import KeySet, OKPKey

LOG_KEY = "log-signing"
REQUEST_KEY = "request-signing"

_lock = threading.Lock()
_cache: dict[Path, Ed25519PrivateKey] = {}


def key_dir() -> Path:
    return Path(settings.KEYS_DIR) / "exchange"


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    with _lock:
        if path in _cache:
            return _cache[path]
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path} is not an Ed25519 private key")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
        _cache[path] = key
        return key


def private_key(name: str) -> Ed25519PrivateKey:
    return _load_or_create(key_dir() / f"{name}.pem")


def log_keys() -> dict[str, Ed25519PublicKey]:
    """Every log-signing public key on file (current and retired), by key id."""
    keys = {}
    current = private_key(LOG_KEY).public_key()
    keys[key_id(current)] = current
    for path in sorted(key_dir().glob(f"{LOG_KEY}-*.pem")):
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, Ed25519PrivateKey):
            keys[key_id(key.public_key())] = key.public_key()
    return keys


def request_jwk() -> OKPKey:
    """The request-signing key as a private JWK (with its kid)."""
    key = private_key(REQUEST_KEY)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return OKPKey.import_key(pem, {"kid": key_id(key.public_key()), "use": "sig", "alg": "Ed25519"})


def jwks() -> dict:
    """The exchange's public keys (request signing and log signing) as a JWK Set."""
    keys = [OKPKey.import_key(request_jwk().as_dict(private=False))]
    for kid, pub in log_keys().items():
        pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        keys.append(OKPKey.import_key(pem, {"kid": kid, "use": "sig", "alg": "Ed25519"}))
    return KeySet(keys).as_dict()
