"""Proxies (帮办代办): an agent with the principal's authorisation letter, or a window clerk (窗口帮办)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from tongban.core import pii
from tongban.core.masking import mask_id
from tongban.core.models import User
from tongban.core.services import audit

from ..errors import ApplicationError
from ..models import ProxyAuthorisation, StoredFile


@transaction.atomic
def authorise_proxy(*, agent: User, principal_name: str, principal_id_number: str, scope: str,
                    valid_until: dt.date, kind: str = ProxyAuthorisation.Kind.AGENT, principal: User | None = None,
                    document: StoredFile | None = None, recorded_by: User | None = None) -> ProxyAuthorisation:
    """Record an authorisation to apply for the principal (a letter is needed unless the principal signs online)."""
    if not principal_name.strip() or not principal_id_number.strip():
        raise ApplicationError("请填写委托人姓名/名称和证件号码", code="proxy.principal_required")
    if valid_until < timezone.localdate():
        raise ApplicationError("授权有效期不能早于今天", code="proxy.expired")
    if kind == ProxyAuthorisation.Kind.AGENT and document is None and principal is None:
        raise ApplicationError("委托代理须上传授权委托书，或由委托人在线授权", code="proxy.document_required")
    if principal is None:
        principal = User.objects.filter(pii.matching("id_number", principal_id_number)).first()
    proxy = ProxyAuthorisation.objects.create(
        agent=agent, principal=principal, principal_name=principal_name.strip(),
        principal_id_number=principal_id_number.strip(), scope=scope, valid_until=valid_until, kind=kind,
        document=document, recorded_by=recorded_by or agent)
    audit("proxy.authorise", actor=recorded_by or agent, obj=proxy,
          detail={"agent": agent.username, "principal": mask_id(principal_id_number), "kind": kind})
    return proxy


def check_proxy(proxy: ProxyAuthorisation, user: User) -> None:
    """``user`` may apply under ``proxy``: it is still valid and they are its agent."""
    if proxy.revoked_at is not None or proxy.valid_until < timezone.localdate():
        raise ApplicationError("代办授权已失效", code="proxy.invalid", status=403)
    if proxy.agent_id != user.pk:
        raise ApplicationError("您不是该授权的代理人", code="proxy.not_agent", status=403)
