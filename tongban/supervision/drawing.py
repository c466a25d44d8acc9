"""The 双随机 draw algorithm ``tongban-sha256-rank-v1``: pure, deterministic, recomputable by anyone.

Inputs (the draw's published snapshot, ``Draw.inputs``)::

    {"ratios": {"A": 0.02, "B": 0.05, "C": 0.1, "D": 0.3}, "inspectors_per_entity": 2,
     "entities": {"A": [uscc, ...], "B": [...], "C": [...], "D": [...]},   # every eligible entity, by grade
     "divisions": {uscc: division_code},          # of the drawn entities (step 2 needs no other)
     "inspectors": [[code, division_code, [uscc of a declared conflict, ...]], ...],
     "last_inspected": {uscc: [inspector code, ...]}}

(``entities`` may also be a list of ``[uscc, grade, division_code]`` rows, then ``divisions`` is not needed.)

Steps, with ``H(s) = SHA-256(UTF-8 s)`` as lowercase hex:

1. Entities: for each grade ``g`` in A, B, C, D, take the entities of that grade, sort them by
   ``H(seed + ":E:" + uscc)`` (ties by uscc) and keep the first ``ceil(n_g × ratio_g)`` (``n_g × ratio_g`` rounded to
   9 decimals first, so 0.05 × 100 is 5, not 6).
2. Inspectors, for each drawn entity in uscc order: leave out (回避) the inspectors who live in the entity's
   division, who declared a conflict with it, or who inspected it in the department's previous draw; sort the
   others by ``H(seed + ":I:" + uscc + ":" + inspector code)`` (ties by code) and keep the first
   ``inspectors_per_entity``. Fewer than that left is an error: the draw is refused, nothing is stored.

Outcome: ``[{"uscc", "grade", "inspectors": [code, ...]}, ...]`` in uscc order. The same seed and inputs always give
the same outcome, on any machine (``tongban supervision redraw DRAW_ID`` checks it; a 30-line script in any
language can too).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
from collections.abc import Sequence
from typing import Any

ALGORITHM = "tongban-sha256-rank-v1"
GRADES = ("A", "B", "C", "D")


class DrawError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sample_size(n: int, ratio: float) -> int:
    return min(n, math.ceil(round(n * ratio, 9)))


def pick_entities(seed: str, entities: Any, ratios: dict[str, float]) -> list[tuple[str, str]]:
    """``(uscc, grade)`` of the drawn entities, in uscc order. ``entities`` is ``{grade: [uscc, ...]}`` (or a list of
    ``[uscc, grade, ...]`` rows)."""
    if isinstance(entities, dict):
        by_grade = {g: [str(u) for u in entities.get(g) or []] for g in GRADES}
    else:
        by_grade = {g: [] for g in GRADES}
        for row in entities:
            by_grade.setdefault(str(row[1]), []).append(str(row[0]))
    prefix = f"{seed}:E:".encode()
    sha = hashlib.sha256
    drawn: list[tuple[str, str]] = []
    for g in GRADES:
        candidates = by_grade.get(g) or []
        k = sample_size(len(candidates), float(ratios.get(g, 0) or 0))
        if not k:
            continue
        # the hex digests compare as the raw digests do: rank by bytes (faster), same order
        keyed = [(sha(prefix + u.encode()).digest(), u) for u in candidates]
        drawn.extend((u, g) for _, u in heapq.nsmallest(k, keyed))
    drawn.sort()
    return drawn


def pick_inspectors(seed: str, uscc: str, division: str, inspectors: Sequence[Sequence[Any]],
                    last: Sequence[str], count: int) -> list[str]:
    avoid = set(last)
    eligible = [str(code) for code, home, conflicts in inspectors
                if home != division and uscc not in (conflicts or ()) and code not in avoid]
    if len(eligible) < count:
        raise DrawError(f"主体 {uscc} 回避后可选检查人员仅 {len(eligible)} 名，少于每户 {count} 名", field="inspectors")
    prefix = f"{seed}:I:{uscc}:".encode()
    sha = hashlib.sha256
    return [c for _, c in sorted((sha(prefix + c.encode()).digest(), c) for c in eligible)[:count]]


def run(seed: str, inputs: dict[str, Any], picked: list[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """The outcome of the draw (see the module docstring); ``picked``: step 1's result when already computed."""
    if not seed:
        raise DrawError("随机种子不能为空", field="seed")
    count = int(inputs.get("inspectors_per_entity") or 2)
    entities = inputs["entities"]
    if isinstance(entities, dict):
        divisions = inputs.get("divisions") or {}
    else:
        divisions = {str(row[0]): str(row[2]) for row in entities}
    last = inputs.get("last_inspected") or {}
    outcome = []
    for uscc, grade in picked if picked is not None else pick_entities(seed, entities, inputs["ratios"]):
        chosen = pick_inspectors(seed, uscc, divisions.get(uscc, ""), inputs["inspectors"], last.get(uscc, ()),
                                 count)
        outcome.append({"uscc": uscc, "grade": grade, "inspectors": chosen})
    return outcome


def digest(value: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of ``value``."""
    return h(json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")))


def first_difference(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> str | None:
    """A sentence naming the first place where two outcomes differ, or None when they are identical."""
    for i, (a, b) in enumerate(zip(expected, actual, strict=False)):
        if a != b:
            return f"entry {i}: recorded {json.dumps(a, ensure_ascii=False)} != recomputed {json.dumps(b, ensure_ascii=False)}"
    if len(expected) != len(actual):
        return f"recorded {len(expected)} entities, recomputed {len(actual)}"
    return None
