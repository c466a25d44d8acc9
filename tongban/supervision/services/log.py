"""The tamper-evident supervision log (RFC 6962 Merkle tree)."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from tongban.core.merkle import Frontier, leaf_hash

from ..models import LogEntry

# --- the supervision log (RFC 6962 Merkle tree) -------------------------------------------------------------------

def _leaf(kind: str, payload: dict[str, Any]) -> bytes:
    return leaf_hash(json.dumps({"kind": kind, "payload": payload}, ensure_ascii=False, sort_keys=True,
                                separators=(",", ":")).encode("utf-8"))


def append_log(kind: str, payload: dict[str, Any]) -> LogEntry:
    """Append one entry; its ``root`` is the tree head after it (any later change to an entry shows in the roots)."""
    with transaction.atomic():
        last = LogEntry.objects.select_for_update().order_by("-index").first()
        frontier = Frontier.from_json(last.index + 1, last.frontier) if last else Frontier()
        leaf = _leaf(kind, payload)
        frontier.push(leaf)
        return LogEntry.objects.create(index=frontier.size - 1, kind=kind, payload=payload, leaf_hash=leaf.hex(),
                                       root=frontier.root().hex(), frontier=frontier.to_json())


def verify_log() -> str | None:
    """Recompute every leaf and root from the entries' payloads; the first mismatch, or None."""
    frontier = Frontier()
    for entry in LogEntry.objects.order_by("index").iterator():
        if entry.index != frontier.size:
            return f"entry {frontier.size} is missing"
        leaf = _leaf(entry.kind, entry.payload)
        if leaf.hex() != entry.leaf_hash:
            return f"entry {entry.index}: payload does not match its leaf hash"
        frontier.push(leaf)
        if frontier.root().hex() != entry.root:
            return f"entry {entry.index}: root does not match"
    return None

