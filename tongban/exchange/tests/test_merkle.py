"""RFC 6962 Merkle tree: reference vectors, the RFC's example tree by hand, proofs, tampering, properties."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongban.exchange import merkle
from tongban.exchange.merkle import (
    EMPTY_ROOT,
    Frontier,
    MemoryTree,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# Test vectors of the Certificate Transparency reference implementation (RFC 6962 data).
CT_LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                        "606162636465666768696a6b6c6d6e6f"]]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}
CT_CONSISTENCY = {
    (2, 8): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}


def test_hash_prefixes_and_empty_tree():
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert MemoryTree().root() == EMPTY_ROOT


def test_split_is_largest_power_of_two_below_n():
    assert [merkle.split_point(n) for n in [2, 3, 4, 5, 7, 8, 9, 1000]] == [1, 2, 2, 4, 4, 4, 8, 512]
    with pytest.raises(ValueError):
        merkle.split_point(1)


def test_reference_roots_and_proofs():
    leaves = [leaf_hash(d) for d in CT_LEAVES]
    tree = MemoryTree(leaves)
    for n in range(1, 9):
        assert tree.root(n).hex() == CT_ROOTS[n - 1]
        assert root_from_leaf_hashes(leaves[:n]).hex() == CT_ROOTS[n - 1]
    for (m, n), proof in CT_INCLUSION.items():
        assert [p.hex() for p in tree.inclusion_proof(m, n)] == proof
    for (m, n), proof in CT_CONSISTENCY.items():
        assert [p.hex() for p in tree.consistency_proof(m, n)] == proof


def test_rfc6962_example_tree_by_hand():
    """RFC 6962 section 2.1.3: the seven-leaf tree with nodes a..l; proofs named as in the RFC."""
    d = [f"d{i}".encode() for i in range(7)]
    a, b, c, dd, e, f, j = (leaf_hash(x) for x in d)  # leaves d0..d6 (RFC names a, b, c, d, e, f, j)
    g, h, i = node_hash(a, b), node_hash(c, dd), node_hash(e, f)
    k = node_hash(g, h)
    l_ = node_hash(i, j)
    root = node_hash(k, l_)
    tree = MemoryTree([a, b, c, dd, e, f, j])
    assert tree.root() == root
    # "the audit path for d0 is [b, h, l]", "for d3 is [c, g, l]", "for d4 is [f, j, k]", "for d6 is [i, k]"
    assert tree.inclusion_proof(0) == [b, h, l_]
    assert tree.inclusion_proof(3) == [c, g, l_]
    assert tree.inclusion_proof(4) == [f, j, k]
    assert tree.inclusion_proof(6) == [i, k]
    # Consistency (RFC 6962 2.1.3): hash0 (size 3) → [c, d, g, l]; hash1 (size 4) → [l]; hash2 (size 6) → [i, j, k]
    assert tree.consistency_proof(3) == [c, dd, g, l_]
    assert tree.consistency_proof(4) == [l_]
    assert tree.consistency_proof(6) == [i, j, k]
    for m in (3, 4, 6):
        assert verify_consistency(m, 7, tree.root(m), root, tree.consistency_proof(m))


def test_ranges_match_rfc_recursion():
    assert inclusion_ranges(0, 7) == [(1, 2), (2, 4), (4, 7)]
    assert consistency_ranges(3, 7) == [(2, 3), (3, 4), (0, 2), (4, 7)]
    assert consistency_ranges(4, 7) == [(4, 7)]
    assert consistency_ranges(7, 7) == [] and consistency_ranges(0, 7) == []
    with pytest.raises(ValueError):
        inclusion_ranges(7, 7)
    with pytest.raises(ValueError):
        merkle.perfect_pieces(1, 4)  # [1, 4) is no node of an RFC 6962 tree


def test_tampered_proofs_are_rejected():
    leaves = [leaf_hash(bytes([i])) for i in range(13)]
    tree = MemoryTree(leaves)
    root = tree.root()
    proof = tree.inclusion_proof(5)
    assert verify_inclusion(leaves[5], 5, 13, proof, root)
    assert not verify_inclusion(leaves[6], 5, 13, proof, root)  # another leaf
    assert not verify_inclusion(leaves[5], 4, 13, proof, root)  # wrong index
    assert not verify_inclusion(leaves[5], 5, 8, proof, root)  # wrong size (another tree shape)
    assert not verify_inclusion(leaves[5], 5, 13, proof[:-1], root)  # truncated
    assert not verify_inclusion(leaves[5], 5, 13, [*proof, proof[0]], root)  # extended
    bad = list(proof)
    bad[1] = bytes([bad[1][0] ^ 1]) + bad[1][1:]
    assert not verify_inclusion(leaves[5], 5, 13, bad, root)
    assert not verify_inclusion(leaves[5], 13, 13, proof, root)
    cproof = tree.consistency_proof(5)
    assert verify_consistency(5, 13, tree.root(5), root, cproof)
    assert not verify_consistency(5, 13, tree.root(6), root, cproof)
    assert not verify_consistency(6, 13, tree.root(5), root, cproof)
    assert not verify_consistency(5, 13, tree.root(5), root, cproof[:-1])
    assert not verify_consistency(5, 13, tree.root(5), root, [])
    # A tree that rewrote leaf 2 is not consistent with the old head.
    forked = MemoryTree([*leaves[:2], leaf_hash(b"forged"), *leaves[3:]])
    assert not verify_consistency(5, 13, tree.root(5), forked.root(), forked.consistency_proof(5))
    # Trivial cases
    assert verify_consistency(13, 13, root, root, [])
    assert not verify_consistency(13, 13, root, tree.root(12), [])
    assert verify_consistency(0, 13, EMPTY_ROOT, root, [])


def test_frontier_round_trips_and_reports_completed_nodes():
    f = Frontier()
    completed = [f.push(leaf_hash(bytes([i]))) for i in range(4)]
    assert [[(lv, ix) for lv, ix, _ in c] for c in completed] == [[(0, 0)], [(0, 1), (1, 0)], [(0, 2)],
                                                                  [(0, 3), (1, 1), (2, 0)]]
    g = Frontier.from_json(f.size, f.to_json())
    assert g.root() == f.root()
    with pytest.raises(ValueError):
        Frontier(3, [(1, b"x" * 32)])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_property_every_inclusion_proof_verifies(entries, data):
    leaves = [leaf_hash(e) for e in entries]
    tree = MemoryTree(leaves)
    n = data.draw(st.integers(1, len(leaves)))
    m = data.draw(st.integers(0, n - 1))
    assert tree.root(n) == root_from_leaf_hashes(leaves[:n])
    proof = tree.inclusion_proof(m, n)
    assert len(proof) <= (n - 1).bit_length()
    assert verify_inclusion(leaves[m], m, n, proof, tree.root(n))
    if n > 1:
        assert not verify_inclusion(leaf_hash(b"\xff" * 9), m, n, proof, tree.root(n))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200), st.data())
def test_property_every_consistency_proof_verifies(n, data):
    tree = MemoryTree(leaf_hash(i.to_bytes(2, "big")) for i in range(n))
    m = data.draw(st.integers(0, n))
    proof = tree.consistency_proof(m, n)
    assert verify_consistency(m, n, tree.root(m), tree.root(n), proof)
    if 0 < m < n:
        assert not verify_consistency(m, n, tree.root(m), bytes(32), proof)
        assert not verify_consistency(m, n, bytes(32), tree.root(n), proof)


def test_proof_size_grows_as_log_n():
    tree = MemoryTree(leaf_hash(i.to_bytes(4, "big")) for i in range(5000))
    for n in (1, 2, 3, 16, 17, 1000, 4096, 4097, 5000):
        assert max(len(tree.inclusion_proof(m, n)) for m in {0, n // 2, n - 1}) <= (n - 1).bit_length()
    assert len(tree.inclusion_proof(0, 4096)) == 12
