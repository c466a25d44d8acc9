from __future__ import annotations

import base64
import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongban.credentials import bitstring


def test_empty_list_is_16_kib_and_encodes_as_multibase_base64url_gzip():
    bits = bitstring.empty()
    assert len(bits) == 16 * 1024
    encoded = bitstring.encode(bits)
    assert encoded.startswith("u")
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    body = encoded[1:]
    assert gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) == bits


def test_index_zero_is_the_left_most_bit():
    bits = bitstring.set_bit(bitstring.empty(), 0, True)
    assert bits[0] == 0b1000_0000
    bits = bitstring.set_bit(bits, 9, True)
    assert bits[1] == 0b0100_0000
    assert bitstring.get_bit(bits, 0) and bitstring.get_bit(bits, 9) and not bitstring.get_bit(bits, 1)
    assert not bitstring.get_bit(bitstring.set_bit(bits, 0, False), 0)


def test_short_lists_and_bad_encodings_are_refused():
    with pytest.raises(ValueError):
        bitstring.empty(1024)
    with pytest.raises(ValueError):
        bitstring.decode("z" + bitstring.encode(bitstring.empty())[1:])
    short = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(100))).decode().rstrip("=")
    with pytest.raises(ValueError):
        bitstring.decode(short)
    with pytest.raises(IndexError):
        bitstring.get_bit(bitstring.empty(), bitstring.MIN_BITS)


@given(st.sets(st.integers(min_value=0, max_value=bitstring.MIN_BITS - 1), max_size=40))
def test_round_trip_keeps_exactly_the_set_bits(indices):
    bits = bitstring.empty()
    for i in indices:
        bits = bitstring.set_bit(bits, i, True)
    decoded = bitstring.decode(bitstring.encode(bits))
    assert decoded == bits
    assert all(bitstring.get_bit(decoded, i) for i in indices)
    assert sum(bin(byte).count("1") for byte in decoded) == len(indices)
