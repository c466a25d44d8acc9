"""Leads (线索) and opening a case: 立案 and its approval."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.core.models import Organisation, Role, User
from tongban.core.services import audit

from .. import discretion, process, selectors
from ..errors import (
    BadState,
    EnforcementError,
)
from ..models import EnforcementCase, Lead
from .benchmarks import get_item
from .common import Stage, _locked, _require, _require_stage
from .records import add_record

# --- leads and cases ----------------------------------------------------------------------------------------


def report_lead(*, source: str, entity_name: str, description: str, entity_uscc: str = "", item_code: str = "",
                department_code: str = "", actor: User | None = None) -> Lead:
    if source not in Lead.Source.values:
        raise EnforcementError(f"线索来源“{source}”未知，应为 {', '.join(Lead.Source.values)}",
                               detail={"field": "source"})
    if not str(entity_name or "").strip():
        raise EnforcementError("请填写当事人", detail={"field": "entity_name"})
    if not str(description or "").strip():
        raise EnforcementError("请填写线索内容", detail={"field": "description"})
    department = None
    if department_code:
        department = Organisation.objects.filter(code=department_code).first()
        if department is None:
            raise EnforcementError(f"机构“{department_code}”不存在", detail={"field": "department_code"})
    elif item_code:
        item = selectors.item(item_code)
        department = item.department if item else None
    if actor is not None:  # by hand (the API, pages): an officer of the department; events come without actor
        if department is None:
            raise EnforcementError("请指定执法部门或涉嫌违法行为", detail={"field": "department_code"})
        _require(actor, Role.ENFORCEMENT_OFFICER, department, "登记线索")
    lead = Lead.objects.create(
        ref=f"XS{timezone.localdate():%Y%m%d}{secrets.token_hex(3).upper()}", source=source,
        entity_uscc=str(entity_uscc or "").strip()[:32], entity_name=str(entity_name).strip()[:200],
        item_code=str(item_code or "").strip()[:40], description=str(description).strip(), department=department,
        reported_by=actor if actor and actor.pk else None)
    audit("enforcement.lead", actor=actor, obj=lead, detail={"source": source, "item": lead.item_code})
    return lead


def _next_case_no(today: date) -> str:
    prefix = f"ZF-{today.year}-"
    last = (EnforcementCase.objects.filter(case_no__startswith=prefix).order_by("-case_no")
            .values_list("case_no", flat=True).first())
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{n:05d}"


def _party_kind(id_number: str, kind: str | None) -> str:
    if kind:
        if kind not in EnforcementCase.PartyKind.values:
            raise EnforcementError(f"当事人类型“{kind}”未知", detail={"field": "party_kind"})
        return kind
    return EnforcementCase.PartyKind.NATURAL if len(id_number) == 18 and id_number[:2].isdigit() and \
        id_number[6:8] in ("19", "20") else EnforcementCase.PartyKind.LEGAL


@transaction.atomic
def open_case(actor: User, *, item_code: str, party_name: str = "", party_id_number: str = "",
              party_kind: str | None = None, facts: dict[str, Any] | None = None, summary: str = "",
              lead: Lead | None = None, department_code: str = "") -> EnforcementCase:
    """Register a case from a lead (or by hand) for 立案审批; starts the case process."""
    item = get_item(item_code or (lead.item_code if lead else ""))
    department = item.department
    if department_code:
        department = Organisation.objects.filter(code=department_code).first()
        if department is None:
            raise EnforcementError(f"机构“{department_code}”不存在", detail={"field": "department"})
    elif lead is not None and lead.department is not None:
        department = lead.department
    if department is None:
        raise EnforcementError("请指定执法部门", detail={"field": "department"})
    _require(actor, Role.ENFORCEMENT_OFFICER, department, "登记案件")
    if lead is not None:
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.status != Lead.Status.NEW:
            raise BadState(f"线索 {lead.ref} 已处理（{lead.get_status_display()}）")
    name = str(party_name or (lead.entity_name if lead else "")).strip()
    number = str(party_id_number or (lead.entity_uscc if lead else "")).strip()
    if not name:
        raise EnforcementError("请填写当事人", detail={"field": "party_name"})
    facts = dict(facts or {})
    if facts:
        discretion.assess(discretion.item_spec(item), facts)  # names the bad field now, not at the decision
    case = EnforcementCase(item=item, department=department, lead=lead,
                           party_kind=_party_kind(number, party_kind), party_name=name[:200],
                           party_id_number=number[:32], facts=facts,
                           summary=str(summary or (lead.description if lead else "")), created_by=actor)
    for attempt in range(5):  # two officers registering at once: the unique number decides, the loser retries
        case.case_no = _next_case_no(timezone.localdate())
        try:
            with transaction.atomic():
                case.save()
            break
        except IntegrityError:
            case.pk = None
            if attempt == 4:
                raise
    process.start(case, actor=actor)
    case.stage = Stage.FILING
    case.save(update_fields=["process_instance_id", "stage"])
    if lead is not None:
        lead.status = Lead.Status.CASE_OPENED
        lead.save(update_fields=["status"])
    add_record(case, actor, "登记案件", case.summary, data={"lead": lead.ref if lead else "", "facts": facts})
    audit("enforcement.case_open", actor=actor, obj=case, detail={"case_no": case.case_no, "item": item.code})
    return case


@transaction.atomic
def decide_filing(case: EnforcementCase, actor: User, *, approve: bool, opinion: str = "") -> EnforcementCase:
    """立案审批 by the department head: 立案 starts the 90-day decision clock; 不予立案 ends the case."""
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_HEAD, case, "立案审批")
    _require_stage(case, Stage.FILING)
    if approve:
        case.filed_on = timezone.localdate()
        case.decision_due_on = selectors.decision_clock(case, case.filed_on).due  # type: ignore[union-attr]
    process.complete(case, "filing", actor, "approve" if approve else "reject", opinion=opinion)
    if not approve and case.lead_id:
        Lead.objects.filter(pk=case.lead_id).update(status=Lead.Status.DISMISSED)
    case.save()
    add_record(case, actor, "立案" if approve else "不予立案", opinion, step=Stage.FILING)
    return case
