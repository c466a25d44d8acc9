"""JSON API of insight, mounted under ``/api/insight/``.

Each operation documents its security and error statuses in its own docstring."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["insight 评估与洞察"])
ROUTERS = [("insight/", router)]
