"""The tamper-evident access log (查询留痕): an append-only RFC 6962 Merkle tree with signed tree heads.

Appending (:func:`append`) is a single INSERT of the entry with its leaf hash, committed before any
data leaves the exchange: no lock, so concurrent appends commit (and flush the WAL) together.
The *sequencer* (:func:`sync_tree`) then takes every committed, unsequenced entry in insertion order
under a lock (the ``TreeState`` row), gives it the next contiguous ``seq`` (its leaf index), and
stores the perfect-subtree hashes it completes (:class:`MerkleNode`) — the merge step of a
Certificate Transparency log. Tree heads are signed on demand (CLI ``tongban exchange sth``, the
API when stale) and periodically (a background task enqueued every ``TONGBAN_EXCHANGE_STH_EVERY``
appends), each after sequencing.

Leaf data is the canonical JSON of the entry (:func:`entry_bytes`, position-independent as in RFC
6962); the signed tree head follows RFC 6962's ``TreeHeadSignature``: version 0, signature type 1,
timestamp (ms), tree size, root hash.
"""

from __future__ import annotations

import base64
import json
import logging
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from cryptography.exceptions import InvalidSignature
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tongban.core import pii, store

from . import keys, merkle
from .errors import BadProofRequest
from .models import AccessLogEntry, MerkleNode, SignedTreeHead, TreeState

logger = logging.getLogger(__name__)

ENTRY_FIELDS = ("at", "actor", "consumer_org", "source", "resource", "subject_id", "case_ref",
                "purpose", "fields", "masked_fields", "outcome", "error_code", "grant_id")


class LogCorrupt(Exception):
    """The stored log does not match itself (a gap in ``seq``, a node that is not there)."""


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_bytes(entry: AccessLogEntry) -> bytes:
    """Canonical leaf data: sorted-key compact JSON (UTF-8) of the entry's fields (not id, seq, leaf hash)."""
    doc = {name: getattr(entry, name) for name in ENTRY_FIELDS}
    doc["at"] = _ts(entry.at)
    doc["fields"] = list(entry.fields)
    doc["masked_fields"] = list(entry.masked_fields)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_leaf_hash(entry: AccessLogEntry) -> str:
    return merkle.leaf_hash(entry_bytes(entry)).hex()


# --- Appending ------------------------------------------------------------------------------------

def append(*, actor: str, consumer_org: str, source: str, resource: str, subject_id: str, case_ref: str = "",
           purpose: str = "", fields: Iterable[str] = (), masked_fields: Iterable[str] = (),
           outcome: str, error_code: str = "", grant_id: int | None = None) -> AccessLogEntry:
    """Append one entry: durable when this returns (outside a caller's transaction); ``seq`` follows
    when the sequencer runs. Inside a caller's transaction the entry shares its fate: fetch evidence
    outside long transactions (see docs/exchange.md)."""
    entry = store.new(
        AccessLogEntry, at=timezone.now(), actor=actor[:150], consumer_org=consumer_org, source=source,
        resource=resource, subject_id=subject_id, subject_id_hash=pii.lookup_hash(subject_id), case_ref=case_ref,
        purpose=purpose[:300], fields=list(fields),
        masked_fields=list(masked_fields), outcome=outcome, error_code=error_code, grant_id=grant_id, leaf_hash="",
    )
    entry.leaf_hash = compute_leaf_hash(entry)
    store.insert(AccessLogEntry, [entry])  # one INSERT ... RETURNING id (hot path: no model save machinery)
    every = int(getattr(settings, "TONGBAN_EXCHANGE_STH_EVERY", 1000))
    if every > 0 and entry.id % every == 0:
        _schedule_signing()
    return entry


def _schedule_signing() -> None:
    try:
        from .tasks import sign_tree_head_task

        transaction.on_commit(lambda: sign_tree_head_task.enqueue())
    except Exception:  # never let signing bookkeeping break a query
        logger.exception("could not schedule tree head signing")


def log_size() -> int:
    """Entries sequenced into the tree so far (the current tree size)."""
    return int(TreeState.objects.filter(pk=1).values_list("size", flat=True).first() or 0)


def pending_count() -> int:
    """Entries written but not yet sequenced."""
    return AccessLogEntry.objects.filter(seq__isnull=True).count()


# --- The tree -------------------------------------------------------------------------------------


def _tree_state_for_update() -> TreeState:
    TreeState.objects.get_or_create(pk=1)
    return store.select(TreeState, f"{store.column(TreeState, 'id')} = %s", (1,), lock=True)[0]


@cache
def _unsequenced_where() -> str:
    """Unsequenced entries in insertion order, a batch at a time (the partial index ``exchange_log_unsequenced``)."""
    seq, pk = store.column(AccessLogEntry, "seq"), store.column(AccessLogEntry, "id")
    return f"{seq} IS NULL ORDER BY {pk} LIMIT %s"


_NODE_CHUNK = 2000  # rows per INSERT (3 parameters each: well under SQLite's and PostgreSQL's limits)


def sync_tree(batch: int = 5000) -> TreeState:
    """The sequencer: give every committed, unsequenced entry the next ``seq`` (insertion order), store
    the subtree hashes it completes, and return the tree state (size, frontier, root)."""
    with transaction.atomic():
        state = _tree_state_for_update()
        frontier = merkle.Frontier.from_json(state.size, state.frontier)
        grew = False
        while True:
            entries = store.select_fields(AccessLogEntry, ("id", "leaf_hash"), _unsequenced_where(), (batch,))
            if not entries:
                break
            nodes = []
            for entry in entries:
                entry.seq = frontier.size
                for level, index, h in frontier.push(bytes.fromhex(entry.leaf_hash)):
                    nodes.append(store.new(MerkleNode, level=level, index=index, hash=h.hex()))
            store.update(AccessLogEntry, entries, ["seq"])
            for start in range(0, len(nodes), _NODE_CHUNK):
                store.insert(MerkleNode, nodes[start:start + _NODE_CHUNK], returning=False)
            grew = True
        if grew:
            state.size = frontier.size
            state.frontier = frontier.to_json()
            state.root_hash = frontier.root().hex()
            state.updated_at = timezone.now()
            store.update(TreeState, [state], ["size", "frontier", "root_hash", "updated_at"])
        return state


def _fetch_nodes(needed: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    if not needed:
        return {}
    query = Q()
    for level, index in needed:
        query |= Q(level=level, index=index)
    found = {(lv, ix): bytes.fromhex(h) for lv, ix, h in
             MerkleNode.objects.filter(query).values_list("level", "index", "hash")}
    missing = needed - found.keys()
    if missing:
        raise LogCorrupt(f"Merkle tree nodes missing: {sorted(missing)[:5]}")
    return found


def _tree_size_for(n: int) -> int:
    """The tree size, sequencing pending entries first when ``n`` is beyond it."""
    size = log_size()
    if n > size:
        size = sync_tree().size
    return size


def _hash_ranges(ranges: list[tuple[int, int]]) -> list[bytes]:
    nodes = _fetch_nodes(merkle.nodes_needed(ranges))
    return [merkle.range_hash(lo, hi, lambda lv, ix: nodes[(lv, ix)]) for lo, hi in ranges]


def root_at(n: int) -> bytes:
    """The tree's root hash at size ``n`` (``n`` ≤ log size)."""
    if n < 0 or n > _tree_size_for(n):
        raise BadProofRequest(f"tree size {n} is beyond the log")
    if n == 0:
        return merkle.EMPTY_ROOT
    return _hash_ranges([(0, n)])[0]


def inclusion_proof(seq: int, tree_size: int) -> dict:
    """Audit path of entry ``seq`` in the tree of ``tree_size`` entries (RFC 6962 PATH)."""
    size = _tree_size_for(tree_size)
    if tree_size < 1 or tree_size > size or not 0 <= seq < tree_size:
        raise BadProofRequest(f"need 0 ≤ seq < tree_size ≤ {size}")
    ranges = merkle.inclusion_ranges(seq, tree_size)
    hashes = _hash_ranges([*ranges, (0, tree_size)])
    leaf = AccessLogEntry.objects.values_list("leaf_hash", flat=True).get(seq=seq)
    return {"seq": seq, "tree_size": tree_size, "leaf_hash": leaf, "root_hash": hashes[-1].hex(),
            "audit_path": [h.hex() for h in hashes[:-1]]}


def consistency_proof(first: int, second: int) -> dict:
    """Proof that the tree of ``second`` entries extends the tree of ``first`` (RFC 6962 PROOF)."""
    size = _tree_size_for(second)
    if not 0 <= first <= second or second > size:
        raise BadProofRequest(f"need 0 ≤ first ≤ second ≤ {size}")
    ranges = merkle.consistency_ranges(first, second)
    roots = [r for r in [(0, first), (0, second)] if r[1] > 0]
    hashes = _hash_ranges([*ranges, *roots])
    path, root_hashes = hashes[: len(ranges)], hashes[len(ranges):]
    first_root = root_hashes[0] if first > 0 else merkle.EMPTY_ROOT
    second_root = root_hashes[-1] if second > 0 else merkle.EMPTY_ROOT
    return {"first": first, "second": second, "first_root": first_root.hex(),
            "second_root": second_root.hex(), "proof": [h.hex() for h in path]}


# --- Signed tree heads ----------------------------------------------------------------------------


def tree_head_bytes(tree_size: int, timestamp: datetime, root: bytes) -> bytes:
    """RFC 6962 TreeHeadSignature: version v1 (0), signature_type tree_hash (1), timestamp ms, size, root."""
    ms = int(timestamp.timestamp() * 1000)
    return struct.pack(">BBQQ", 0, 1, ms, tree_size) + root


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_tree_head() -> SignedTreeHead:
    """Bring the tree up to date and sign its current head."""
    state = sync_tree()
    now = timezone.now()
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # millisecond precision, as signed
    key = keys.private_key(keys.LOG_KEY)
    root = bytes.fromhex(state.root_hash) if state.size else merkle.EMPTY_ROOT
    signature = key.sign(tree_head_bytes(state.size, now, root))
    return SignedTreeHead.objects.create(tree_size=state.size, root_hash=root.hex(), timestamp=now,
                                         signature=_b64(signature), key_id=keys.key_id(key.public_key()))


def latest_tree_head(max_age_seconds: int | None = None) -> SignedTreeHead:
    """The newest signed head; a fresh one is signed when there is none, or when the log grew and the
    newest is older than ``max_age_seconds`` (default settings TONGBAN_EXCHANGE_STH_MAX_AGE, 60)."""
    if max_age_seconds is None:
        max_age_seconds = int(getattr(settings, "TONGBAN_EXCHANGE_STH_MAX_AGE", 60))
    sth = SignedTreeHead.objects.order_by("-tree_size", "-timestamp", "-id").first()
    if sth is None:
        return sign_tree_head()
    age = (timezone.now() - sth.timestamp).total_seconds()
    grew = sth.tree_size < log_size() or AccessLogEntry.objects.filter(seq__isnull=True).exists()
    if grew and age >= max_age_seconds:
        return sign_tree_head()
    return sth


def check_tree_head_signature(sth: SignedTreeHead, public_keys: dict | None = None) -> bool:
    public_keys = keys.log_keys() if public_keys is None else public_keys
    pub = public_keys.get(sth.key_id)
    if pub is None:
        return False
    try:
        pub.verify(_unb64(sth.signature), tree_head_bytes(sth.tree_size, sth.timestamp, bytes.fromhex(sth.root_hash)))
    except (InvalidSignature, ValueError):
        return False
    return True


def tree_head_json(sth: SignedTreeHead) -> dict:
    return {"tree_size": sth.tree_size, "root_hash": sth.root_hash,
            "timestamp": int(sth.timestamp.timestamp() * 1000), "timestamp_iso": sth.timestamp.isoformat(),
            "signature": sth.signature, "key_id": sth.key_id, "algorithm": "Ed25519",
            "signed_data": "RFC 6962 TreeHeadSignature: u8 version=0, u8 type=1, u64 timestamp_ms, "
                           "u64 tree_size, 32-byte root hash (big-endian)"}


# --- Verification ---------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    tree_size: int = 0
    root_hash: str = ""
    heads_checked: int = 0
    pending: int = 0  # entries written but not yet sequenced (their leaf hashes are checked too)
    problems: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None
    first_bad_head: int | None = None  # SignedTreeHead id

    @property
    def ok(self) -> bool:
        return not self.problems


def _stream(qs, key: str, chunk: int = 5000) -> Iterator[AccessLogEntry]:
    last = None
    while True:
        page = qs if last is None else qs.filter(**{f"{key}__gt": last})
        rows = list(page.order_by(key)[:chunk])
        if not rows:
            return
        yield from rows
        last = getattr(rows[-1], key)


def verify_log() -> VerifyReport:
    """Recompute every leaf from its entry's fields and the whole tree; check every cached node and
    every signed tree head. The report names the first bad entry (by seq) or tree head."""
    report = VerifyReport()
    heads = list(SignedTreeHead.objects.order_by("tree_size", "id"))
    heads_by_size: dict[int, list[SignedTreeHead]] = {}
    for sth in heads:
        heads_by_size.setdefault(sth.tree_size, []).append(sth)
    public_keys = keys.log_keys()
    stored_nodes = {(lv, ix): h for lv, ix, h in MerkleNode.objects.values_list("level", "index", "hash")}
    frontier = merkle.Frontier()

    def bad_entry(seq: int, why: str) -> None:
        if report.first_bad_seq is None:
            report.first_bad_seq = seq
        report.problems.append(f"entry seq {seq}: {why}")

    def check_heads(size: int) -> None:
        root = frontier.root().hex() if size else merkle.EMPTY_ROOT.hex()
        for sth in heads_by_size.get(size, []):
            report.heads_checked += 1
            why = ""
            if sth.root_hash != root:
                why = f"root {sth.root_hash[:16]}… does not match the recomputed tree ({root[:16]}…)"
            elif not check_tree_head_signature(sth, public_keys):
                why = "signature does not verify" if sth.key_id in public_keys else f"unknown key id {sth.key_id}"
            if why:
                if report.first_bad_head is None:
                    report.first_bad_head = sth.pk
                report.problems.append(f"signed tree head #{sth.pk} (tree size {sth.tree_size}): {why}")

    check_heads(0)
    for entry in _stream(AccessLogEntry.objects.filter(seq__isnull=False), "seq"):
        expected = frontier.size
        if entry.seq != expected:
            bad_entry(expected, f"missing (next stored entry is seq {entry.seq})")
            break
        leaf = compute_leaf_hash(entry)
        if leaf != entry.leaf_hash:
            bad_entry(entry.seq, "stored fields do not match the entry's leaf hash (entry altered)")
        committed = stored_nodes.get((0, entry.seq))
        if committed is not None and committed != leaf and report.first_bad_seq != entry.seq:
            bad_entry(entry.seq, "entry differs from the leaf committed to the tree (entry rewritten)")
        for level, index, h in frontier.push(bytes.fromhex(leaf)):
            stored = stored_nodes.get((level, index))
            if level and stored is not None and stored != h.hex() and report.first_bad_seq is None:
                report.problems.append(f"cached tree node (level {level}, index {index}) does not match "
                                       "the recomputed tree")
        check_heads(frontier.size)

    state = TreeState.objects.filter(pk=1).first()
    sequenced = state.size if state else 0
    if frontier.size < sequenced and report.first_bad_seq is None:
        bad_entry(frontier.size, f"missing (the tree holds {sequenced} entries)")
    if state and frontier.size == sequenced and sequenced and state.root_hash != frontier.root().hex():
        report.problems.append("stored tree state root does not match the recomputed tree")
    for sth in heads:
        if sth.tree_size > frontier.size:
            if report.first_bad_head is None:
                report.first_bad_head = sth.pk
            report.problems.append(f"signed tree head #{sth.pk} (tree size {sth.tree_size}): "
                                   f"covers entries that are not in the log (only {frontier.size})")
    for entry in _stream(AccessLogEntry.objects.filter(seq__isnull=True), "id"):
        report.pending += 1
        if compute_leaf_hash(entry) != entry.leaf_hash:
            report.problems.append(f"entry id {entry.pk} (not yet sequenced): stored fields do not match its "
                                   "leaf hash (entry altered)")
    report.tree_size = frontier.size
    report.root_hash = frontier.root().hex() if frontier.size else merkle.EMPTY_ROOT.hex()
    return report
