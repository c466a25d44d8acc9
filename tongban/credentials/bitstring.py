"""W3C Bitstring Status List encoding (https://www.w3.org/TR/vc-bitstring-status-list/).

The bitstring is at least 16 KiB (131,072 entries); index 0 is the left-most (most significant) bit of the
first byte. ``encodedList`` is the multibase base64url (no padding, prefix ``u``) of the GZIP-compressed
bitstring.
"""

from __future__ import annotations

import base64
import gzip

MIN_BITS = 131_072


def empty(size_bits: int = MIN_BITS) -> bytes:
    if size_bits < MIN_BITS or size_bits % 8:
        raise ValueError(f"a status list has at least {MIN_BITS} entries and a whole number of bytes")
    return bytes(size_bits // 8)


def get_bit(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise IndexError(f"status list index {index} out of range")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def set_bit(bits: bytes, index: int, value: bool) -> bytes:
    if not 0 <= index < len(bits) * 8:
        raise IndexError(f"status list index {index} out of range")
    buffer = bytearray(bits)
    mask = 0x80 >> (index % 8)
    if value:
        buffer[index // 8] |= mask
    else:
        buffer[index // 8] &= ~mask & 0xFF
    return bytes(buffer)


def encode(bits: bytes) -> str:
    """GZIP + base64url (no padding) with the multibase prefix ``u``."""
    compressed = gzip.compress(bits, compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def decode(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url (prefix 'u')")
    body = encoded[1:]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    bits = gzip.decompress(raw)
    if len(bits) * 8 < MIN_BITS:
        raise ValueError(f"status list shorter than {MIN_BITS} entries")
    return bits
