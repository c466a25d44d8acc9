"""Core write services: audit records, organisations, users and role grants."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .models import AuditLog, Division, Organisation, Role, RoleAssignment, User

STANDARD_ROLES: dict[str, str] = {
    Role.APPLICANT: "申请人",
    Role.WINDOW_CLERK: "综合窗口人员",
    Role.APPROVER: "审批人员",
    Role.SUPERVISOR: "监管执法人员",
    Role.ADMINISTRATOR: "政务服务管理人员",
    Role.DATA_OWNER: "数据提供部门人员",
    Role.EVALUATOR: "评价人员",
    Role.SECURITY_ADMIN: "信息安全管理人员",
    Role.HOTLINE_OPERATOR: "12345热线话务员",
    Role.DISCIPLINE: "纪检监察人员",
    Role.ENFORCEMENT_OFFICER: "行政执法人员",
    Role.LEGAL_REVIEWER: "法制审核人员",
    Role.ENFORCEMENT_HEAD: "执法部门负责人",
}


def audit(
    action: str,
    *,
    actor: User | None = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    reason: str = "",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditLog:
    """Append one audit record. ``obj`` (a model instance) fills object type and id when given."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    label = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        label = str(actor)
    else:
        actor = None
    return AuditLog.objects.create(
        actor=actor, actor_label=label or "system", action=action, object_type=object_type,
        object_id=object_id, reason=reason, detail=detail or {}, ip=ip,
    )


def ensure_standard_roles() -> list[Role]:
    """Create the platform's standard roles if missing (idempotent)."""
    roles = []
    for code, name in STANDARD_ROLES.items():
        role, _ = Role.objects.update_or_create(code=code, defaults={"name": name})
        roles.append(role)
    return roles


def upsert_division(code: str, name: str, level: str, parent: Division | None = None) -> Division:
    division, _ = Division.objects.update_or_create(
        code=code, defaults={"name": name, "level": level, "parent": parent}
    )
    return division


def upsert_organisation(code: str, name: str, *, division: Division, **fields: Any) -> Organisation:
    org, _ = Organisation.objects.update_or_create(code=code, defaults={"name": name, "division": division, **fields})
    return org


@transaction.atomic
def grant_role(user: User, role_code: str, organisation: Organisation, *, include_children: bool = False,
               actor: User | None = None) -> RoleAssignment:
    role = Role.objects.get(code=role_code)
    assignment, created = RoleAssignment.objects.update_or_create(
        user=user, role=role, organisation=organisation, defaults={"include_children": include_children}
    )
    if created:
        audit("role.grant", actor=actor, obj=assignment, detail={"user": user.username, "role": role_code,
                                                                  "organisation": organisation.code})
    return assignment


def upsert_user(username: str, *, password: str | None = None, **fields: Any) -> User:
    user, created = User.objects.update_or_create(username=username, defaults=fields)
    if password and (created or not user.check_password(password)):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user
