"""JSON API of insight, mounted under ``/api/insight/``.

Each operation documents its security and error statuses in its own docstring."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from tongban.core.openapi import ErrorOut, public

router = Router(tags=["insight 评估与洞察"])
ROUTERS = [("insight/", router)]


# --- indicators (tongban/insight/indicators/) --------------------------------------------------------------------


class IndicatorOut(Schema):
    id: str
    dimension: str
    value: float | None
    unit: str


@router.get("/indicators", response={200: list[IndicatorOut], 404: ErrorOut, 422: ErrorOut}, auth=None,
            summary="评估指标（公开）")
@public
def indicators(request: HttpRequest, period: str, org: str = ""):
    """Every declared indicator for the month ``period`` (``YYYY-MM``, local time), for the whole platform or one
    organisation (``org``: its code). Public (open to third parties and the public). Errors:
    ``insight.bad_period`` (422) when the period is not ``YYYY-MM``, ``insight.not_found`` (404) for an unknown
    organisation code."""
    from .indicators import figures_json

    return figures_json(period, org=org)


# --- process mining (tongban/insight/mining/, docs/insight.md) ---------------------------------------------

from .mining.api import router as _mining_router  # noqa: E402

ROUTERS.append(("insight/mining", _mining_router))
