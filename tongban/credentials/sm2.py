"""SM2/SM3 signatures (国密), the national-algorithm option (``TONGBAN_SEAL_ALGORITHM=sm2``).

A thin wrapper around gmssl: keys are generated with :mod:`secrets` (gmssl's own random helper is not a
CSPRNG), signatures are SM2 over SM3 with the default user id "1234567812345678" (GB/T 32918 / GM/T 0009),
encoded as hex ``r || s`` (64 bytes). Public keys are hex ``04 || x || y``.
"""

from __future__ import annotations

import secrets

from gmssl import sm2 as _gmssl_sm2
from gmssl import sm3 as _gmssl_sm3

_TABLE = _gmssl_sm2.default_ecc_table
_N = int(_TABLE["n"], 16)
_PEM_LABEL = b"SM2 PRIVATE KEY (hex)"


def _crypt(private_hex: str | None, public_hex: str) -> _gmssl_sm2.CryptSM2:
    crypt = _gmssl_sm2.CryptSM2(private_key=private_hex or "", public_key="00")
    # gmssl strips a "04" prefix with str.lstrip, which also eats leading 0/4 digits of x: set it ourselves.
    public = public_hex[2:] if len(public_hex) == 130 and public_hex.startswith("04") else public_hex
    crypt.public_key = public
    return crypt


def generate_keypair() -> tuple[str, str]:
    """A new (private hex, public hex ``04||x||y``) SM2 key pair."""
    d = secrets.randbelow(_N - 2) + 1
    private_hex = f"{d:064x}"
    point = _crypt(private_hex, "00")._kg(d, _TABLE["g"])
    return private_hex, "04" + point


def public_key_of(private_hex: str) -> str:
    return "04" + _crypt(private_hex, "00")._kg(int(private_hex, 16), _TABLE["g"])


def sign(private_hex: str, public_hex: str, message: bytes) -> str:
    """SM2 signature over SM3(Z || message), hex r||s."""
    crypt = _crypt(private_hex, public_hex)
    while True:
        k = f"{secrets.randbelow(_N - 2) + 1:064x}"
        signature = crypt.sign_with_sm3(message, k)
        if signature:
            return signature


def verify(public_hex: str, message: bytes, signature_hex: str) -> bool:
    if len(signature_hex) != 128:
        return False
    try:
        int(signature_hex, 16)
        return bool(_crypt(None, public_hex).verify_with_sm3(signature_hex, message))
    except (ValueError, TypeError, IndexError):
        return False


def sm3_hex(message: bytes) -> str:
    return _gmssl_sm3.sm3_hash(list(message))


def private_key_file(private_hex: str) -> bytes:
    return b"-----BEGIN " + _PEM_LABEL + b"-----\n" + private_hex.encode() + b"\n-----END " + _PEM_LABEL + b"-----\n"


def read_private_key_file(raw: bytes) -> str:
    lines = [line.strip() for line in raw.decode().splitlines() if line.strip() and not line.startswith("-----")]
    return lines[0]
