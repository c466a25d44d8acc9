"""Template context for every page: the navigation links the signed-in user's roles open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tongban.core.models import Role, RoleAssignment


def navigation(request: HttpRequest) -> dict[str, Any]:
    links: list[tuple[str, str]] = [("/catalog/", "办事指南"), ("/apply/", "我要办事"), ("/lists/", "权责清单")]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        roles = set(RoleAssignment.objects.filter(user=user).values_list("role__code", flat=True))
        if user.is_superuser:
            roles |= {Role.WINDOW_CLERK, Role.APPROVER, Role.DATA_OWNER}
        links += [("/my/", "我的办件"), ("/credentials/wallet/", "证照夹"), ("/exchange/my-data/", "我的数据")]
        if Role.WINDOW_CLERK in roles:
            links.append(("/window/", "综合窗口"))
        if Role.APPROVER in roles or Role.SUPERVISOR in roles:
            links.append(("/workbench/", "审批工作台"))
        if Role.DATA_OWNER in roles or Role.APPROVER in roles:
            links.append(("/exchange/grants/", "数据共享"))
        if user.is_staff:
            links.append(("/workflow/definitions/", "流程"))
    return {"nav_links": links}
