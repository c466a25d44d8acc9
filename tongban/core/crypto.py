"""Encryption of personal data at rest (个人信息加密存储): the PII keyring and its cipher.

The keyring is one file, ``settings.PII_KEYS_DIR/keyring.json`` (directory 0700, file 0600; by default
``TONGBAN_HOME/keys/pii``, so ``tongban backup`` copies it with the other keys)::

    {"format": "tongban-pii-keyring", "version": 1,
     "primary": "k2",                       # the key new values are encrypted with
     "keys": {"k1": "<base64 32 bytes>", "k2": "<base64 32 bytes>"},   # AES-256-GCM data keys by key id
     "lookup": "<base64 32 bytes>",         # HMAC-SHA256 key of the keyed hashes (equality lookups)
     "created": {"k1": "2026-12-05T07:00:00+00:00", ...}}

A value is stored as ``pii1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`` (AES-256-GCM, 96-bit random nonce,
the key id as associated data), so a value names the key that decrypts it and rotation is: add a key, make it
primary, re-encrypt every row, then (optionally) retire the old keys. The lookup key is not rotated by
``rotate-pii``: the keyed hashes stay valid across data-key rotations (see docs/privacy.md).

The keyring is created on first use. It is cached per process, the file looked at again at most every
``RECHECK_SECONDS`` and re-read when it changed (a rotation made by another process reaches running servers and
workers within a second).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils import timezone

from .errors import DomainError

PREFIX = "pii1:"
KEYRING_FILE = "keyring.json"
FORMAT = "tongban-pii-keyring"
_NONCE = 12
RECHECK_SECONDS = 1.0  # how long a process trusts its cached keyring before looking at the file again
_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int, int], Keyring]] = {}
_recent: list[tuple[object, float, Keyring]] = []  # (the setting's value, when checked, keyring): the fast path


class PiiKeyError(DomainError):
    """The PII keyring is missing, damaged, or lacks the key a value was encrypted with."""

    code = "pii.key"
    status = 500  # a fault of the installation, not of the request


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise PiiKeyError(f"个人信息密钥文件损坏 damaged PII keyring: {what} is not base64") from None
    if len(raw) != 32:
        raise PiiKeyError(f"个人信息密钥文件损坏 damaged PII keyring: {what} is not 32 bytes")
    return raw


@dataclass(frozen=True)
class Keyring:
    primary: str
    keys: dict[str, bytes]
    lookup: bytes
    created: dict[str, str] = field(default_factory=dict)
    ciphers: dict[str, AESGCM] = field(default_factory=dict, compare=False, repr=False)

    def cipher(self, kid: str) -> AESGCM | None:
        found = self.ciphers.get(kid)
        if found is None and kid in self.keys:
            found = self.ciphers[kid] = AESGCM(self.keys[kid])
        return found

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "version": 1, "primary": self.primary,
                           "keys": {kid: _b64(k) for kid, k in self.keys.items()},
                           "lookup": _b64(self.lookup), "created": self.created}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            data = json.loads(text)
        except ValueError:
            raise PiiKeyError("个人信息密钥文件损坏 damaged PII keyring: not JSON") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("keys"), dict):
            raise PiiKeyError("个人信息密钥文件损坏 damaged PII keyring: not a tongban PII keyring")
        keys = {str(kid): _unb64(str(value), f"key {kid}") for kid, value in data["keys"].items()}
        primary = str(data.get("primary", ""))
        if primary not in keys:
            raise PiiKeyError(f"个人信息密钥文件损坏 damaged PII keyring: primary key {primary!r} missing")
        return cls(primary, keys, _unb64(str(data.get("lookup", "")), "lookup key"),
                   {str(k): str(v) for k, v in (data.get("created") or {}).items()})


def keys_dir() -> Path:
    return Path(settings.PII_KEYS_DIR)


def keyring_path() -> Path:
    return keys_dir() / KEYRING_FILE


def _new_kid(existing: dict[str, bytes]) -> str:
    """The next key id, above every present one: the primary is always the highest, and retired keys were lower,
    so an id is never given to two keys (a value names its key by id)."""
    numbers = [int(kid[1:]) for kid in existing if kid[:1] == "k" and kid[1:].isdigit()]
    return f"k{max(numbers, default=0) + 1}"


def _write(keyring: Keyring) -> None:
    """Write the keyring atomically with mode 0600 (never readable by others, not even briefly)."""
    path = keyring_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, keyring.to_json().encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _now() -> str:
    return timezone.now().replace(microsecond=0).isoformat()


def keyring() -> Keyring:
    """The current keyring (created on first use), cached until the file changes (looked at again at most every
    ``RECHECK_SECONDS``: encryption runs for every personal field of every row read)."""
    setting, now = settings.PII_KEYS_DIR, time.monotonic()
    recent = _recent[0] if _recent else None
    if recent is not None and recent[0] is setting and now - recent[1] < RECHECK_SECONDS:
        return recent[2]
    ring = _load()
    _recent[:] = [(setting, now, ring)]
    return ring


def _load() -> Keyring:
    path = keyring_path()
    cached = _cache.get(path)
    if cached is not None and cached[0] == _signature(path):
        return cached[1]
    with _lock:
        if not path.exists():
            kid = "k1"
            _write(Keyring(kid, {kid: AESGCM.generate_key(256)}, secrets.token_bytes(32), {kid: _now()}))
        signature = _signature(path)
        ring = Keyring.from_json(path.read_text())
        _cache[path] = (signature, ring)
        return ring


def _signature(path: Path) -> tuple[int, int, int]:
    """What tells that the keyring file changed (replaced: another inode; rewritten: time or size)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return (-1, -1, -1)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def clear_cache() -> None:
    _cache.clear()
    _recent.clear()


def add_primary_key() -> str:
    """Add a new data key and make it the primary one; returns its key id. Old keys stay (they still decrypt)."""
    ring = keyring()
    kid = _new_kid(ring.keys)
    _write(Keyring(kid, {**ring.keys, kid: AESGCM.generate_key(256)}, ring.lookup, {**ring.created, kid: _now()}))
    clear_cache()
    return kid


def retire_keys(keep: set[str]) -> list[str]:
    """Drop every data key not in ``keep`` (the primary is always kept); returns the retired key ids."""
    ring = keyring()
    keep = keep | {ring.primary}
    gone = sorted(set(ring.keys) - keep)
    if gone:
        _write(Keyring(ring.primary, {k: v for k, v in ring.keys.items() if k in keep}, ring.lookup,
                       {k: v for k, v in ring.created.items() if k in keep}))
        clear_cache()
    return gone


# --- values ------------------------------------------------------------------------------------------------


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id(token: str) -> str | None:
    """The key id a stored value was encrypted with (``None`` for a value stored in clear)."""
    if not is_encrypted(token):
        return None
    return token[len(PREFIX):].split(":", 1)[0]


def encrypt(plaintext: str) -> str:
    """Encrypt with the primary key. The empty string stays empty (``blank`` checks keep working)."""
    if plaintext == "":
        return ""
    ring = keyring()
    nonce = secrets.token_bytes(_NONCE)
    cipher = ring.cipher(ring.primary)
    assert cipher is not None
    sealed = cipher.encrypt(nonce, plaintext.encode(), ring.primary.encode())
    return f"{PREFIX}{ring.primary}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def decrypt(token: str) -> str:
    """Decrypt a stored value; a value without the ``pii1:`` prefix is returned as it is (stored before
    encryption was introduced, or empty)."""
    if not is_encrypted(token):
        return token
    kid, _, body = token[len(PREFIX):].partition(":")
    ring = keyring()
    cipher = ring.cipher(kid)
    if cipher is None:
        raise PiiKeyError(f"缺少个人信息密钥 PII key {kid!r} is not in the keyring {keyring_path()} "
                          "(retired, or the keyring of another installation)", code="pii.key_missing")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return cipher.decrypt(raw[:_NONCE], raw[_NONCE:], kid.encode()).decode()
    except (InvalidTag, ValueError, binascii.Error):
        raise PiiKeyError(f"个人信息密文无法解密 a value encrypted with PII key {kid!r} does not decrypt "
                          "(damaged, or another installation's key with the same id)", code="pii.corrupt") from None


def normalise(value: str) -> str:
    """The form of a value its keyed hash is computed over: trimmed, upper case (ID numbers end in X or x)."""
    return value.strip().upper()


def lookup_hash(value: str) -> str:
    """The keyed hash (HMAC-SHA256, hex) for equality lookups; empty for an empty value."""
    value = normalise(value)
    if not value:
        return ""
    return hmac.new(keyring().lookup, value.encode(), hashlib.sha256).hexdigest()
