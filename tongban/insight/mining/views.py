"""Staff page of process mining (``/insight/mining/``): the discovered model in the bpmn-js viewer with the
bottleneck marked, the deployed model beside it, the tables, and the next reengineering step. Thin: the figures come
from :func:`.report.report`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .errors import MiningError
from .report import may_mine, processes, report


@login_required
def mining_page(request: HttpRequest) -> HttpResponse:
    if not may_mine(request.user):
        return render(request, "insight/mining_error.html", {"message": "仅政务服务管理机构和第三方评估人员可以查看流程挖掘"},
                      status=403)
    available = processes()
    key = request.GET.get("process", "") or next((p["key"] for p in available if p["instances"]), "")
    item = request.GET.get("item", "")
    context = {"processes": available, "process_key": key, "item": item, "report": None}
    if key or item:
        try:
            r = report(key, item)
        except MiningError as exc:
            return render(request, "insight/mining_error.html", {"message": exc.message}, status=exc.status)
        m = r.mining
        context.update(report=r, m=m, proposals=r.proposals,
                       discovered_marks={"active": m.discovered_marks},
                       deployed_marks={"active": m.deployed_marks})
    return render(request, "insight/mining.html", context)
