"""W3C Verifiable Credentials 2.0 secured as compact JWS (VC-JOSE-COSE, ``typ: vc+jwt``, alg EdDSA).

The JWS payload is the credential itself (JSON-LD, context https://www.w3.org/ns/credentials/v2).
"""

from __future__ import annotations

import base64
import json
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, OKPKey

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
TYP = "vc+jwt"
CTY = "vc"
ALG = "EdDSA"
MEDIA_TYPE = "application/vc+jwt"



@contextmanager
def _eddsa() -> Iterator[None]:
    """RFC 9864 prefers the fully specified "Ed25519"; VC-JOSE-COSE verifiers still expect "EdDSA"."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        yield


def public_jwk(public_key_pem: str, kid: str, *, certificate_der_b64: str = "") -> dict[str, Any]:
    """The public JWK of a PEM public key (Ed25519 → OKP/EdDSA, P-256 → EC/ES256)."""
    public = serialization.load_pem_public_key(public_key_pem.encode())
    if isinstance(public, ed25519.Ed25519PublicKey):
        jwk = OKPKey.import_key(public_key_pem).as_dict(private=False)
        jwk.update({"alg": ALG})
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = ECKey.import_key(public_key_pem).as_dict(private=False)
        jwk.update({"alg": "ES256"})
        if certificate_der_b64:
            jwk["x5c"] = [certificate_der_b64]
    else:  # pragma: no cover - only the two algorithms are issued
        raise ValueError("unsupported public key type")
    jwk.update({"kid": kid, "use": "sig"})
    return jwk


def sign_compact(payload: dict[str, Any], private_key: ed25519.Ed25519PrivateKey, kid: str) -> str:
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    key = OKPKey.import_key(pem)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    header = {"alg": ALG, "typ": TYP, "cty": CTY, "kid": kid}
    with _eddsa():
        return jws.serialize_compact(header, body, key, algorithms=[ALG])


_COMPACT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


class MalformedJws(ValueError):
    pass


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """Header, payload and raw payload bytes of a compact JWS, without checking the signature."""
    token = token.strip()
    if not _COMPACT.match(token):
        raise MalformedJws("不是有效的紧凑 JWS（应为 header.payload.signature 三段 base64url）")
    header_part, payload_part, _sig = token.split(".")
    try:
        header = json.loads(_b64decode(header_part))
        raw = _b64decode(payload_part)
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJws(f"JWS 内容无法解析：{exc}") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise MalformedJws("JWS 头部和载荷必须是 JSON 对象")
    return header, payload, raw


def verify_signature(token: str, public_key_pem: str) -> bool:
    """Whether the compact JWS ``token`` carries a valid EdDSA signature by ``public_key_pem``."""
    try:
        key = OKPKey.import_key(public_key_pem)
        with _eddsa():
            jws.deserialize_compact(token.strip(), key, algorithms=[ALG])
    except (JoseError, ValueError, TypeError):
        return False
    return True


def signing_input(token: str) -> bytes:
    header_part, payload_part, _sig = token.strip().split(".")
    return f"{header_part}.{payload_part}".encode()
