"""Credit: events, grading (single and batch) and credit repair (信用修复)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from tongban.core import events
from tongban.core.models import Organisation, User
from tongban.core.services import audit

from .. import credit, drawing, selectors
from ..errors import Conflict, Forbidden, InvalidInput
from ..models import CreditEvent, CreditRepair, MarketEntity

# --- credit ------------------------------------------------------------------------------------------------------

def add_credit_event(entity: MarketEntity, kind: str, description: str, *, points: float | None = None,
                     department: Organisation | None = None, source_ref: str = "",
                     occurred_on: date | None = None, actor: User | None = None) -> CreditEvent:
    if kind not in CreditEvent.Kind.values:
        raise InvalidInput(f"信用记录类型“{kind}”不正确", field="kind")
    if not (description or "").strip():
        raise InvalidInput("请填写信用记录说明", field="description")
    event = CreditEvent.objects.create(entity=entity, kind=kind, description=description.strip(),
                                       points=credit.POINTS[kind] if points is None else points,
                                       department=department, source_ref=source_ref,
                                       occurred_on=occurred_on or timezone.localdate())
    audit("supervision.credit_event", actor=actor, obj=event, detail={"uscc": entity.uscc, "kind": kind})
    regrade(entity)
    return event


def _grading(entity: MarketEntity, evs: Iterable[CreditEvent], today: date) -> credit.Grading:
    return credit.grade([credit.Event(e.kind, e.points, e.occurred_on, e.description) for e in evs], today,
                        entity.established_on)


def regrade(entity: MarketEntity, today: date | None = None) -> MarketEntity:
    """Recompute one entity's grade from its unrepaired events."""
    today = today or timezone.localdate()
    g = _grading(entity, entity.credit_events.filter(repaired=False), today)
    before = entity.grade
    entity.grade, entity.credit_score, entity.grade_reasons, entity.graded_at = g.grade, g.score, g.reasons, \
        timezone.now()
    entity.save(update_fields=["grade", "credit_score", "grade_reasons", "graded_at"])
    if g.grade != before:
        events.entity_graded.send(sender=MarketEntity, usccs=[entity.uscc])
    return entity


def recompute_credit(entities: QuerySet[MarketEntity] | None = None, *, today: date | None = None,
                     batch: int = 5000) -> dict[str, int]:
    """Recompute the grade of every entity (or of ``entities``) in batches; only changed rows are written (one
    ``executemany`` per batch). Returns the count per grade."""
    today = today or timezone.localdate()
    qs = (entities if entities is not None else MarketEntity.objects.all()).order_by("pk")
    counts = dict.fromkeys(drawing.GRADES, 0)
    now = timezone.now()
    last_pk = 0
    no_events: dict[date | None, credit.Grading] = {}  # entities without records differ only by their age
    regraded: list[str] = []
    while True:
        chunk = list(qs.filter(pk__gt=last_pk).values_list("pk", "established_on", "grade", "credit_score",
                                                           "grade_reasons", "uscc")[:batch])
        if not chunk:
            break
        last_pk = chunk[-1][0]
        by_entity: dict[int, list[credit.Event]] = defaultdict(list)
        # a range, not IN (5,000 ids): the chunk is consecutive in pk order (others in the range are skipped below)
        for ev in CreditEvent.objects.filter(entity_id__gte=chunk[0][0], entity_id__lte=last_pk,
                                             repaired=False).values_list(
                "entity_id", "kind", "points", "occurred_on", "description"):
            by_entity[ev[0]].append(credit.Event(ev[1], ev[2], ev[3], ev[4]))
        changed = []
        for pk, established, old_grade, old_score, old_reasons, uscc in chunk:
            evs = by_entity.get(pk)
            if evs:
                g = credit.grade(evs, today, established)
            else:
                g = no_events.get(established) or no_events.setdefault(established,
                                                                       credit.grade((), today, established))
            counts[g.grade] += 1
            if (g.grade, g.score, g.reasons) != (old_grade, old_score, old_reasons):
                changed.append((g.grade, g.score, json.dumps(g.reasons, ensure_ascii=False), now, pk))
                if g.grade != old_grade:
                    regraded.append(uscc)
        _write_grades(changed)
    if regraded:
        events.entity_graded.send(sender=MarketEntity, usccs=regraded)
    return counts


def _write_grades(rows: list[tuple[str, float, str, Any, int]]) -> None:
    """Write changed grades: one ``UPDATE … FROM (VALUES …)`` per 1,000 rows (SQLite ≥ 3.33 and PostgreSQL), in one
    transaction."""
    if not rows:
        return
    from django.db import connection

    table = connection.ops.quote_name(MarketEntity._meta.db_table)
    stamp = {at: connection.ops.adapt_datetimefield_value(at) for at in {row[3] for row in rows}}
    if connection.vendor == "postgresql":
        one = "(%s, %s::double precision, %s::jsonb, %s::timestamptz, %s::bigint)"
    else:
        one = "(%s, %s, %s, %s, %s)"
    with transaction.atomic(), connection.cursor() as cursor:
        for i in range(0, len(rows), 1000):
            part = rows[i:i + 1000]
            params = [v for g, score, why, at, pk in part for v in (g, score, why, stamp[at], pk)]
            cursor.execute(
                f"UPDATE {table} SET grade = v.column1, credit_score = v.column2, grade_reasons = v.column3, "
                f"graded_at = v.column4 FROM (VALUES {', '.join([one] * len(part))}) AS v "
                f"WHERE {table}.id = v.column5", params)


def _entity_user(user: User, entity: MarketEntity) -> bool:
    return bool(user.is_authenticated and user.id_number and user.id_number.upper() == entity.uscc)


def _reviewer_departments(event: CreditEvent) -> list[int]:
    if event.department_id:
        return [event.department_id]
    return list(event.entity.supervising_departments.values_list("pk", flat=True))


@transaction.atomic
def apply_repair(event: CreditEvent, user: User, reason: str) -> CreditRepair:
    """信用修复 申请: the entity (or a supervisor on its behalf) asks to repair a negative record."""
    event = CreditEvent.objects.select_for_update().select_related("entity").get(pk=event.pk)
    if not (_entity_user(user, event.entity)
            or any(selectors.can_supervise(user, d) for d in _reviewer_departments(event))):
        raise Forbidden("只有该主体或其监管部门可以申请信用修复")
    if event.points >= 0:
        raise InvalidInput("只有失信记录可以申请信用修复", field="event")
    if event.repaired:
        raise Conflict("该记录已修复", code="supervision.repair_done")
    if not (reason or "").strip():
        raise InvalidInput("请填写修复理由与整改情况", field="reason")
    try:
        with transaction.atomic():
            repair = CreditRepair.objects.create(event=event, reason=reason.strip(), applied_by=user)
    except IntegrityError:
        raise Conflict("该记录已有待审核的修复申请", code="supervision.repair_pending") from None
    audit("supervision.repair_apply", actor=user, obj=repair, detail={"event": event.pk})
    return repair


@transaction.atomic
def review_repair(repair: CreditRepair, user: User, *, approve: bool, note: str = "") -> CreditRepair:
    """信用修复 审核: approved → the record no longer counts and the grade is restored (recomputed)."""
    repair = CreditRepair.objects.select_for_update().select_related("event__entity").get(pk=repair.pk)
    if not any(selectors.can_supervise(user, d) for d in _reviewer_departments(repair.event)):
        raise Forbidden("只有认定该记录的部门可以审核信用修复")
    if repair.status != CreditRepair.Status.PENDING:
        raise Conflict("该申请已审核", code="supervision.repair_reviewed")
    if not approve and not (note or "").strip():
        raise InvalidInput("不予修复时请填写理由", field="note")
    repair.status = CreditRepair.Status.APPROVED if approve else CreditRepair.Status.REJECTED
    repair.reviewed_by, repair.reviewed_at, repair.review_note = user, timezone.now(), (note or "").strip()
    repair.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    if approve:
        CreditEvent.objects.filter(pk=repair.event_id).update(repaired=True)
        regrade(repair.event.entity)
    audit("supervision.repair_review", actor=user, obj=repair, detail={"approve": approve}, reason=note)
    return repair

