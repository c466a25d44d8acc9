"""Matching on events: an item approved (``decision_made:ITEM_CODE``, e.g. a birth registered), a licence issued
(``licence_issued:TYPE``, e.g. a business licence), an entity's credit grade changed (``entity_graded``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction


def _later(event: str, ids: list[str]) -> None:
    from . import services

    transaction.on_commit(lambda: services.match_event(event, ids))


def on_decision_made(sender: Any, **kw: Any) -> None:
    if kw.get("outcome") != "approved":
        return
    holder = kw.get("holder") or {}
    ids = [holder.get("id_number") or holder.get("credit_code") or ""]
    _later(f"decision_made:{kw.get('item_code', '')}", ids)
    licence = (kw.get("result") or {}).get("licence_type")
    if licence:
        data = (kw.get("result") or {}).get("data") or {}
        # a new entity's licence names it by its new credit code
        _later(f"licence_issued:{licence}", [data.get("unified_credit_code") or data.get("credit_code") or ids[0]])


def on_entity_graded(sender: Any, **kw: Any) -> None:
    _later("entity_graded", list(kw.get("usccs") or []))
