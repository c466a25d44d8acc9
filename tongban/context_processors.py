"""Template context for every page: the site (core/site.py), the navigation links the signed-in user's roles open,
and elder mode (适老化, core/elder.py).

``nav_links`` are the public and personal pages (one row of the header); ``work_links`` are the staff workbenches,
collapsed into one menu (a <details> that works without JavaScript) so the header fits at 1280 px and on a phone.
In elder mode a citizen sees only the few pages of the applicant's journey.

Labels are translated in the language of the request (the Chinese text is the msgid)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from tongban.core import elder, site
from tongban.core.models import Role, RoleAssignment

# The pages a citizen keeps in elder mode: find a service, apply, follow the case, the licences, the messages.
ELDER_PATHS = frozenset({"/catalog/", "/apply/", "/my/", "/credentials/wallet/", "/messages/"})


def navigation(request: HttpRequest) -> dict[str, Any]:
    elder_mode = elder.is_on(request)
    links: list[tuple[str, str]] = [("/catalog/", _("办事指南")), ("/apply/", _("我要办事")), ("/lists/", _("权责清单")),
                                    ("/feedback/stats/", _("好差评公示")),
                                    ("/enforcement/public/", _("执法公示")), ("/insight/", _("评估指标"))]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        roles = set(RoleAssignment.objects.filter(user=user).values_list("role__code", flat=True))
        if user.is_superuser:
            roles |= {Role.WINDOW_CLERK, Role.APPROVER, Role.DATA_OWNER}
        links += [("/my/", _("我的办件")), ("/credentials/wallet/", _("证照夹")), ("/exchange/my-data/", _("我的数据")),
                  ("/messages/", _("我的消息"))]
        personal = len(links)
        if Role.WINDOW_CLERK in roles:
            links.append(("/window/", _("综合窗口")))
        if Role.APPROVER in roles or Role.SUPERVISOR in roles:
            links.append(("/workbench/", _("审批工作台")))
        if Role.SUPERVISOR in roles or user.is_superuser:
            links.append(("/supervision/", _("监管工作台")))
        if Role.DATA_OWNER in roles or Role.APPROVER in roles:
            links.append(("/exchange/grants/", _("数据共享")))
        if user.kind != "staff":
            links += [("/feedback/rate/", _("评价服务")), ("/feedback/orders/", _("我的诉求"))]
        if Role.HOTLINE_OPERATOR in roles or user.is_superuser:
            links.append(("/hotline/", _("%(hotline)s热线") % {"hotline": site.current().hotline}))
        if user.kind == "staff" and (user.organisation_id or roles):
            links.append(("/feedback/department/", _("诉求与差评办理")))
        if Role.EVALUATOR in roles or user.is_superuser:
            links.append(("/feedback/evaluation/", _("第三方评估")))
        if user.is_superuser:
            roles |= {Role.ENFORCEMENT_OFFICER}
        if Role.ENFORCEMENT_OFFICER in roles:
            links.append(("/enforcement/cases/", _("行政执法")))
        if Role.LEGAL_REVIEWER in roles:
            links.append(("/enforcement/review/", _("法制审核")))
        if Role.ENFORCEMENT_HEAD in roles:
            links.append(("/enforcement/head/", _("执法决定")))
        if user.is_staff:
            links.append(("/workflow/definitions/", _("流程")))
        if user.kind == "staff" or user.is_superuser:
            links.append(("/insight/staff/", _("指标工作台")))
        if Role.SECURITY_ADMIN in roles or user.is_superuser:
            links.append(("/security/incidents/", _("安全事件")))
    else:
        personal = len(links)
    nav_links, work_links = links[:personal], links[personal:]
    if user is None or not user.is_authenticated or not (user.kind == "staff" or user.is_staff):
        # a citizen's or company's own pages (评价服务, 我的诉求) stay in the header row
        nav_links, work_links = links, []
    if elder_mode and not work_links:
        nav_links = [link for link in nav_links if link[0] in ELDER_PATHS]
    return {"nav_links": nav_links, "work_links": work_links, "site": site.current(), "elder_mode": elder_mode}
