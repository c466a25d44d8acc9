"""RFC 6962 (Certificate Transparency) Merkle tree hashing, audit paths and consistency proofs.

Pure functions, no Django. Conventions of RFC 6962 section 2.1 (and its verification algorithms as
written down in RFC 9162 section 2.1.3.2 / 2.1.4.2):

- leaf hash ``MTH({d}) = SHA-256(0x00 || d)``; interior node ``SHA-256(0x01 || left || right)``;
  the empty tree's hash is ``SHA-256("")``;
- a tree of ``n > 1`` leaves splits at ``k``, the largest power of two *smaller* than ``n``.

Every node of such a tree covers a leaf range ``[lo, hi)`` that is either a *perfect* subtree
(``hi - lo`` a power of two, ``lo`` a multiple of it) or the right edge of the tree, which is a
right fold of decreasing perfect subtrees. So any node hash can be computed from the hashes of
perfect subtrees, addressed by ``(level, index)`` = leaves ``[index * 2**level, (index + 1) * 2**level)``.
A log stores those (see :class:`Frontier`, which yields each one as it completes), and proofs
are then a handful of lookups (:func:`inclusion_ranges`, :func:`consistency_ranges`,
:func:`perfect_pieces`). :class:`MemoryTree` is the in-memory version used by tests and benchmarks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    if n < 2:
        raise ValueError("a split needs at least two leaves")
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of a list of leaf hashes, straight from the RFC's recursive definition."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = split_point(n)
    return node_hash(root_from_leaf_hashes(leaves[:k]), root_from_leaf_hashes(leaves[k:]))


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Combine decreasing perfect subtrees ``P1, P2, ..., Pm`` (left to right) into
    ``node(P1, node(P2, ... node(Pm-1, Pm)))``: the RFC hash of their concatenated leaves."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


# --- Ranges: which subtree hashes a proof needs ---------------------------------------------------


def inclusion_ranges(m: int, n: int) -> list[tuple[int, int]]:
    """Leaf ranges ``[lo, hi)`` whose MTH form PATH(m, D[n]), in RFC order (leaf level first)."""
    if not 0 <= m < n:
        raise ValueError(f"leaf index {m} is not in a tree of size {n}")
    path: list[tuple[int, int]] = []
    lo, hi = 0, n
    while hi - lo > 1:
        k = split_point(hi - lo)
        if m - lo < k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def consistency_ranges(m: int, n: int) -> list[tuple[int, int]]:
    """Leaf ranges whose MTH form PROOF(m, D[n]) (RFC 6962 2.1.2); empty when m == n or m == 0."""
    if not 0 <= m <= n:
        raise ValueError(f"tree size {m} is not within 0..{n}")
    if m == 0 or m == n:
        return []

    def subproof(m: int, lo: int, hi: int, b: bool) -> list[tuple[int, int]]:
        size = hi - lo
        if m == size:
            return [] if b else [(lo, hi)]
        k = split_point(size)
        if m <= k:
            return [*subproof(m, lo, lo + k, b), (lo + k, hi)]
        return [*subproof(m - k, lo + k, hi, False), (lo, lo + k)]

    return subproof(m, 0, n, True)


def perfect_pieces(lo: int, hi: int) -> list[tuple[int, int]]:
    """Split ``[lo, hi)`` into perfect subtrees ``(level, index)``, largest first.

    Valid for the ranges of an RFC 6962 tree (a perfect subtree or a right edge), whose pieces
    fold right into the range's MTH (:func:`fold_right`).
    """
    if not 0 <= lo < hi:
        raise ValueError(f"empty or negative range [{lo}, {hi})")
    pieces: list[tuple[int, int]] = []
    while lo < hi:
        size = 1 << ((hi - lo).bit_length() - 1)  # largest power of two <= remaining
        while lo % size:
            size >>= 1
        level = size.bit_length() - 1
        pieces.append((level, lo >> level))
        lo += size
    sizes = [1 << level for level, _ in pieces]
    if sizes != sorted(sizes, reverse=True) or len(set(sizes)) != len(sizes):
        raise ValueError(f"range [{pieces}] is not a node of an RFC 6962 tree")
    return pieces


def range_hash(lo: int, hi: int, node: Callable[[int, int], bytes]) -> bytes:
    """MTH(D[lo:hi]) from perfect-subtree hashes ``node(level, index)``."""
    return fold_right([node(level, index) for level, index in perfect_pieces(lo, hi)])


def nodes_needed(ranges: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Every perfect subtree ``(level, index)`` needed to hash the given ranges."""
    needed: set[tuple[int, int]] = set()
    for lo, hi in ranges:
        needed.update(perfect_pieces(lo, hi))
    return needed


def root_ranges(n: int) -> list[tuple[int, int]]:
    return [] if n == 0 else [(0, n)]


# --- Verification (RFC 9162 2.1.3.2 and 2.1.4.2) --------------------------------------------------


def verify_inclusion(leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether ``proof`` proves that leaf hash ``leaf`` is at ``index`` in the tree ``(tree_size, root)``."""
    if index < 0 or index >= tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows the tree ``(second, second_root)`` extends ``(first, first_root)``."""
    if first < 0 or second < first:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is itself a node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# --- Appending ------------------------------------------------------------------------------------


class Frontier:
    """The right edge of a growing tree: the roots of its perfect subtrees, largest first.

    ``push`` adds a leaf hash and returns every perfect subtree it completes, leaf included, as
    ``(level, index, hash)``; ``root()`` is the tree's MTH. O(log n) memory.
    """

    def __init__(self, size: int = 0, nodes: Sequence[tuple[int, bytes]] = ()) -> None:
        self.size = size
        self.nodes: list[tuple[int, bytes]] = list(nodes)  # (level, hash), levels strictly decreasing
        if sum(1 << level for level, _ in self.nodes) != size:
            raise ValueError("frontier does not match its size")

    def push(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        completed = [(0, self.size, leaf)]
        self.nodes.append((0, leaf))
        self.size += 1
        while len(self.nodes) >= 2 and self.nodes[-1][0] == self.nodes[-2][0]:
            (level, right), (_, left) = self.nodes.pop(), self.nodes.pop()
            parent = node_hash(left, right)
            self.nodes.append((level + 1, parent))
            completed.append((level + 1, (self.size >> (level + 1)) - 1, parent))
        return completed

    def root(self) -> bytes:
        return fold_right([h for _, h in self.nodes])

    def to_json(self) -> list[list]:
        return [[level, h.hex()] for level, h in self.nodes]

    @classmethod
    def from_json(cls, size: int, data: Sequence[Sequence]) -> Frontier:
        return cls(size, [(int(level), bytes.fromhex(h)) for level, h in data])


class MemoryTree:
    """An in-memory RFC 6962 log: every perfect subtree hash kept, proofs in O(log n)."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.frontier = Frontier()
        self._nodes: dict[tuple[int, int], bytes] = {}
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return self.frontier.size

    def append(self, leaf: bytes) -> int:
        for level, index, h in self.frontier.push(leaf):
            self._nodes[(level, index)] = h
        return self.size - 1

    def node(self, level: int, index: int) -> bytes:
        return self._nodes[(level, index)]

    def _check_size(self, n: int) -> None:
        if not 0 <= n <= self.size:
            raise ValueError(f"tree size {n} is not within 0..{self.size}")

    def root(self, n: int | None = None) -> bytes:
        n = self.size if n is None else n
        self._check_size(n)
        return EMPTY_ROOT if n == 0 else range_hash(0, n, self.node)

    def inclusion_proof(self, m: int, n: int | None = None) -> list[bytes]:
        n = self.size if n is None else n
        self._check_size(n)
        return [range_hash(lo, hi, self.node) for lo, hi in inclusion_ranges(m, n)]

    def consistency_proof(self, m: int, n: int | None = None) -> list[bytes]:
        n = self.size if n is None else n
        self._check_size(n)
        return [range_hash(lo, hi, self.node) for lo, hi in consistency_ranges(m, n)]
