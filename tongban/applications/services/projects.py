"""Investment projects (投资项目): 赋码 with the four stages, and filing applications under a stage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.catalog.models import Bundle
from tongban.core import site
from tongban.core.models import User
from tongban.core.services import audit

from ..errors import ApplicationError
from ..models import Application, InvestmentProject, ProjectStage
from .common import log, next_in_sequence, require_editable


def next_project_code(now: dt.datetime | None = None) -> str:
    """投资项目代码: year-division-00-01-sequence, e.g. 2026-330100-00-01-000007 (the site's division code)."""
    year = timezone.localtime(now or timezone.now()).year
    return next_in_sequence(InvestmentProject, "code", f"{year}-{site.current().division_code}-00-01-")


@transaction.atomic
def create_project(*, owner: User, name: str, location: str = "", total_investment: Any = 0,
                   stage_bundles: dict[str, Bundle] | None = None) -> InvestmentProject:
    """赋码: register an investment project with its four stages (立项用地规划许可 → 竣工验收)."""
    if not name.strip():
        raise ApplicationError("请填写项目名称", code="project.name_required")
    try:
        amount = Decimal(str(total_investment or 0))
    except InvalidOperation:
        raise ApplicationError("总投资须为数字（万元）", code="project.invalid_investment") from None
    if amount < 0 or not amount.is_finite():
        raise ApplicationError("总投资须为不小于 0 的数字（万元）", code="project.invalid_investment")
    project = InvestmentProject.objects.create(code=next_project_code(), name=name.strip()[:200], owner=owner,
                                               location=location.strip()[:200], total_investment=amount)
    for order, (stage, _label) in enumerate(ProjectStage.STAGES, start=1):
        ProjectStage.objects.create(project=project, stage=stage, order=order,
                                    bundle=(stage_bundles or {}).get(stage))
    audit("project.create", actor=owner, obj=project, detail={"code": project.code})
    return project


@transaction.atomic
def link_project_stage(app: Application, stage: ProjectStage, user: User) -> Application:
    """File an application under a stage of the applicant's investment project."""
    if stage.project.owner_id not in {app.applicant_id, user.pk}:
        raise ApplicationError("只能将办件归入本单位的投资项目", code="project.forbidden", status=403)
    require_editable(app, user)
    app.project_stage = stage
    app.save(update_fields=["project_stage"])
    log(app, "project", f"归入投资项目 {stage.project.code}（{stage.get_stage_display()}）", user)
    return app
