"""JSON API of process mining, mounted under ``/api/insight/mining``.

Security: signed-in callers (session or bearer token) holding the administrator role (the service-management
office) or the evaluator role; others get 403 ``insight.mining_forbidden``. Errors: ``insight.unknown_process`` /
``insight.unknown_item`` (404), ``insight.log_scope`` (422) when neither process nor item is given."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from tongban.core.auth import API_AUTH
from tongban.core.openapi import ErrorOut

from .errors import Forbidden
from .report import may_mine, processes, report

router = Router(tags=["insight 流程挖掘"], auth=API_AUTH)


def _require(request: HttpRequest) -> None:
    if not may_mine(request.user):
        raise Forbidden("仅政务服务管理机构和第三方评估人员可以查看流程挖掘")


class ProcessOut(Schema):
    key: str
    name: str
    instances: int


@router.get("/processes", response={200: list[ProcessOut], 403: ErrorOut}, summary="可挖掘的流程")
def list_processes(request: HttpRequest):
    """The deployed processes with their number of instances, most first."""
    _require(request)
    return processes()


@router.get("", response={200: dict[str, Any], 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
            summary="流程挖掘与再造建议")
def mining(request: HttpRequest, process: str = "", item: str = ""):
    """Mine a process (``process``: its key) or an item's cases (``item``: its code): activities with waiting and
    working time in working days, variants, rework, conformance (alignment fitness against the latest deployed
    version), the bottleneck, and the proposals with the working days each would save. The BPMN of the discovered
    model is not included (the staff page shows it)."""
    _require(request)
    return report(process, item).to_dict()
