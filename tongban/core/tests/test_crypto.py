"""The PII keyring and cipher (tongban.core.crypto): key files, key ids in the values, rotation, damage."""

from __future__ import annotations

import json
import stat

import pytest

from tongban.core import crypto

ID = "910101199001011234"


@pytest.fixture
def ring_dir(tmp_path, settings):
    settings.PII_KEYS_DIR = tmp_path / "pii"
    crypto.clear_cache()
    yield settings.PII_KEYS_DIR
    crypto.clear_cache()


def test_keyring_is_created_on_first_use_private_to_the_owner(ring_dir):
    assert not ring_dir.exists()
    token = crypto.encrypt(ID)
    path = ring_dir / crypto.KEYRING_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(ring_dir.stat().st_mode) == 0o700
    data = json.loads(path.read_text())
    assert data["primary"] == "k1" and list(data["keys"]) == ["k1"]
    assert token.startswith("pii1:k1:") and ID not in token


def test_round_trip_random_nonce_and_empty_values(ring_dir):
    a, b = crypto.encrypt(ID), crypto.encrypt(ID)
    assert a != b  # a fresh nonce every time: equal values do not show as equal ciphertext
    assert crypto.decrypt(a) == crypto.decrypt(b) == ID
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""
    assert crypto.decrypt("张三 plain") == "张三 plain"  # stored before encryption: read as it is
    assert crypto.decrypt(crypto.encrypt("云溪市青山区翠湖街道")) == "云溪市青山区翠湖街道"


def test_lookup_hash_is_keyed_normalised_and_not_the_plain_sha256(ring_dir):
    import hashlib

    h = crypto.lookup_hash(ID[:-1] + "x")
    assert h == crypto.lookup_hash(f"  {ID[:-1]}X ") and len(h) == 64
    assert h != hashlib.sha256((ID[:-1] + "X").encode()).hexdigest()
    assert crypto.lookup_hash("") == ""
    assert crypto.lookup_hash(ID) != crypto.lookup_hash("910101199001011235")


def test_rotation_keeps_old_values_readable_until_retired(ring_dir):
    old = crypto.encrypt(ID)
    lookup = crypto.lookup_hash(ID)
    kid = crypto.add_primary_key()
    assert kid == "k2" and crypto.key_id(crypto.encrypt(ID)) == "k2"
    assert crypto.decrypt(old) == ID
    assert crypto.lookup_hash(ID) == lookup  # the lookup key survives data-key rotation
    assert crypto.retire_keys({"k2"}) == ["k1"]
    with pytest.raises(crypto.PiiKeyError) as err:
        crypto.decrypt(old)
    assert err.value.code == "pii.key_missing" and "k1" in err.value.message
    assert crypto.add_primary_key() == "k3"  # a retired id is never given to a new key


def test_a_change_made_by_another_process_is_picked_up(ring_dir, monkeypatch):
    monkeypatch.setattr(crypto, "RECHECK_SECONDS", 0.0)  # a server looks again after this long (1 s)
    crypto.encrypt(ID)
    path = ring_dir / crypto.KEYRING_FILE
    data = json.loads(path.read_text())
    data["keys"]["k9"] = data["keys"]["k1"]
    data["primary"] = "k9"
    path.write_text(json.dumps(data))  # no clear_cache(): the file's change is noticed
    assert crypto.key_id(crypto.encrypt(ID)) == "k9"


def test_tampered_ciphertext_and_foreign_keys_are_refused(ring_dir):
    token = crypto.encrypt(ID)
    body = token.rsplit(":", 1)[1]
    flipped = token[: -len(body)] + ("A" if body[0] != "A" else "B") + body[1:]
    with pytest.raises(crypto.PiiKeyError) as err:
        crypto.decrypt(flipped)
    assert err.value.code == "pii.corrupt"
    with pytest.raises(crypto.PiiKeyError):  # the key id is authenticated too
        crypto.decrypt(token.replace("pii1:k1:", "pii1:k2:"))


@pytest.mark.parametrize("content, message", [
    ("not json", "not JSON"),
    ('{"format": "other"}', "not a tongban PII keyring"),
    ('{"format": "tongban-pii-keyring", "keys": {"k1": "AAAA"}, "primary": "k1", "lookup": ""}', "not 32 bytes"),
    ('{"format": "tongban-pii-keyring", "keys": {}, "primary": "k1", "lookup": ""}', "primary key 'k1' missing"),
])
def test_a_damaged_keyring_is_reported_not_replaced(ring_dir, content, message):
    ring_dir.mkdir()
    (ring_dir / crypto.KEYRING_FILE).write_text(content)
    with pytest.raises(crypto.PiiKeyError, match=message):
        crypto.encrypt(ID)
    assert (ring_dir / crypto.KEYRING_FILE).read_text() == content
