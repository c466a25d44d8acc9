from __future__ import annotations

from tongban.credentials import sm2


def test_sm3_matches_the_standard_test_vector():
    # GB/T 32905-2016 example 1: SM3("abc")
    assert sm2.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sign_and_verify_and_tampering_fails():
    private, public = sm2.generate_keypair()
    assert public.startswith("04") and len(public) == 130
    assert sm2.public_key_of(private) == public
    message = "营业执照 YYZZ-0001".encode()
    signature = sm2.sign(private, public, message)
    assert len(signature) == 128
    assert sm2.verify(public, message, signature)
    assert not sm2.verify(public, message + b"x", signature)
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert not sm2.verify(public, message, flipped)
    _other_private, other_public = sm2.generate_keypair()
    assert not sm2.verify(other_public, message, signature)
    assert not sm2.verify(public, message, "not-hex")


def test_private_key_file_round_trip():
    private, _public = sm2.generate_keypair()
    assert sm2.read_private_key_file(sm2.private_key_file(private)) == private
