"""Shared pieces of the enforcement services: the stage aliases, the penalty constants, the role and stage
guards and the case lock."""

from __future__ import annotations

from tongban.core.models import Organisation, Role, User
from tongban.core.selectors import has_role

from ..errors import (
    BadState,
    Forbidden,
)
from ..models import EnforcementCase, Level, PenaltyKind

Stage = EnforcementCase.Stage
Review = EnforcementCase.Review
#: credit points of a penalty by circumstance level (a credit fact; negative lowers the entity's score)
CREDIT_POINTS: dict[str, int] = {Level.MINOR: -2, Level.GENERAL: -5, Level.SERIOUS: -10, Level.SEVERE: -20}
HEARING_KINDS = {PenaltyKind.REVOKE_LICENCE, PenaltyKind.DOWNGRADE, PenaltyKind.SUSPEND_BUSINESS, PenaltyKind.CLOSE,
                 PenaltyKind.RESTRICT_BUSINESS, PenaltyKind.BAR, PenaltyKind.CONFISCATE_PROPERTY}
SUSPENSION_KINDS = {PenaltyKind.SUSPEND_BUSINESS, PenaltyKind.CLOSE, PenaltyKind.RESTRICT_BUSINESS}
ARCHIVE_RETENTION_YEARS = 30  # 行政处罚案卷 (long-term) retention used on export
HEARING_WINDOW_DAYS = 5  # 《行政处罚法》第六十四条：告知后五日内提出（第八十五条：工作日）


# --- roles --------------------------------------------------------------------------------------------------


def _require(user: User | None, role: str, case_or_org: EnforcementCase | Organisation, what: str) -> None:
    org = case_or_org.department if isinstance(case_or_org, EnforcementCase) else case_or_org
    if user is None or not has_role(user, role, org):
        raise Forbidden(f"{what}须由{org.name}的{ROLE_LABELS[role]}办理")


ROLE_LABELS = {Role.ENFORCEMENT_OFFICER: "行政执法人员", Role.LEGAL_REVIEWER: "法制审核人员",
               Role.ENFORCEMENT_HEAD: "执法部门负责人"}


def _require_stage(case: EnforcementCase, *stages: str) -> None:
    if case.stage not in stages:
        labels = "、".join(Stage(s).label for s in stages)
        raise BadState(f"案件 {case.case_no} 当前环节为“{case.get_stage_display()}”，不能办理（应在：{labels}）",
                       detail={"stage": case.stage})


def _locked(case: EnforcementCase) -> EnforcementCase:
    return EnforcementCase.objects.select_for_update().select_related("item", "department").get(pk=case.pk)
