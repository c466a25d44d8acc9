"""Draw plans, inspectors, draws (双随机) and inspection results."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tongban.catalog.models import ServiceItem
from tongban.core.models import Division, Organisation, User
from tongban.core.services import audit

from .. import drawing, selectors, uscc
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..models import (
    Draw,
    DrawPlan,
    EnforcementLead,
    Inspection,
    Inspector,
    LogEntry,
    MarketEntity,
    SupervisionRecord,
)
from .crediting import add_credit_event
from .log import append_log, verify_log
from .register import INDUSTRIES

# --- draw plans, inspectors, draws ---------------------------------------------------------------------------------

def save_inspector(*, code: str, name: str, department: str, division: str, user: User | None = None,
                   conflicts: Iterable[str] = ()) -> Inspector:
    dept = Organisation.objects.filter(code=department).first()
    if dept is None:
        raise InvalidInput(f"部门“{department}”不存在", field="department")
    div = Division.objects.filter(code=division).first()
    if div is None:
        raise InvalidInput(f"行政区划“{division}”不存在", field="division")
    bad = [c for c in conflicts if not uscc.is_valid(c)]
    if bad:
        raise InvalidInput(f"回避主体代码无效：{'、'.join(bad)}", field="conflicts")
    inspector, _ = Inspector.objects.update_or_create(code=code, defaults={
        "name": name, "department": dept, "division": div, "user": user, "conflicts": list(conflicts)})
    return inspector


def save_plan(*, code: str, name: str, department: str, ratios: dict[str, Any], period_start: date | str,
              period_end: date | str, checklist: list[str], item_codes: Iterable[str] = (),
              industries: Iterable[str] = (), division_codes: Iterable[str] = (),
              inspectors_per_entity: int = 2, actor: User | None = None) -> DrawPlan:
    """Create or update a draw plan; every field is checked first and the error names it (nothing is written)."""
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        raise InvalidInput("计划编号不能为空", field="code")
    if not name:
        raise InvalidInput("计划名称不能为空", field="name")
    dept = Organisation.objects.filter(code=department).first()
    if dept is None:
        raise InvalidInput(f"部门“{department}”不存在", field="department", code="supervision.unknown_department")
    if actor is not None and not selectors.can_supervise(actor, dept):
        raise Forbidden("只有该部门监管执法人员可以制定抽查计划")
    items = [str(c).strip() for c in item_codes if str(c).strip()]
    known = set(ServiceItem.objects.filter(code__in=items).values_list("code", flat=True))
    if unknown := [c for c in items if c not in known]:
        raise InvalidInput(f"事项“{'、'.join(unknown)}”不存在", field="item_codes", code="supervision.unknown_item")
    inds = [str(c).strip().upper() for c in industries if str(c).strip()]
    if unknown := [c for c in inds if c not in INDUSTRIES]:
        raise InvalidInput(f"行业门类“{'、'.join(unknown)}”不正确（GB/T 4754 门类 A–S）", field="industries")
    divs = [str(c).strip() for c in division_codes if str(c).strip()]
    known = set(Division.objects.filter(code__in=divs).values_list("code", flat=True))
    if unknown := [c for c in divs if c not in known]:
        raise InvalidInput(f"行政区划“{'、'.join(unknown)}”不存在", field="division_codes")
    if not isinstance(ratios, dict) or not ratios:
        raise InvalidInput("请填写各信用等级的抽查比例", field="ratios")
    clean_ratios: dict[str, float] = {}
    for g, value in ratios.items():
        if g not in drawing.GRADES:
            raise InvalidInput(f"信用等级“{g}”不正确（A、B、C、D）", field=f"ratios.{g}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{g} 级抽查比例“{value}”不是数字", field=f"ratios.{g}") from None
        if not 0 <= number <= 1:
            raise InvalidInput(f"{g} 级抽查比例 {value} 超出 0–1", field=f"ratios.{g}",
                               code="supervision.ratio_out_of_range")
        clean_ratios[g] = number
    try:
        start = period_start if isinstance(period_start, date) else date.fromisoformat(str(period_start))
    except ValueError:
        raise InvalidInput(f"开始日期“{period_start}”不是 YYYY-MM-DD", field="period_start") from None
    try:
        end = period_end if isinstance(period_end, date) else date.fromisoformat(str(period_end))
    except ValueError:
        raise InvalidInput(f"结束日期“{period_end}”不是 YYYY-MM-DD", field="period_end") from None
    if end < start:
        raise InvalidInput("结束日期早于开始日期", field="period_end")
    checks = [str(c).strip() for c in checklist or [] if str(c).strip()]
    if not checks:
        raise InvalidInput("请填写检查事项清单", field="checklist")
    if int(inspectors_per_entity) < 2:
        raise InvalidInput("每户至少 2 名检查人员（双随机）", field="inspectors_per_entity")
    available = Inspector.objects.filter(department=dept, active=True).count()
    if available < int(inspectors_per_entity):
        raise InvalidInput(f"{dept.name} 在岗检查人员 {available} 名，少于每户 {inspectors_per_entity} 名",
                           field="inspectors", code="supervision.no_eligible_inspectors")
    plan, created = DrawPlan.objects.update_or_create(code=code, defaults={
        "name": name, "department": dept, "item_codes": items, "industries": inds, "division_codes": divs,
        "ratios": clean_ratios, "period_start": start, "period_end": end, "checklist": checks,
        "inspectors_per_entity": int(inspectors_per_entity)})
    audit("supervision.plan_save", actor=actor, obj=plan, detail={"created": created})
    return plan


def _division_ids(codes: list[str]) -> set[int]:
    """The divisions named and every division below them."""
    rows = list(Division.objects.values_list("pk", "code", "parent_id"))
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, _code, parent in rows:
        children[parent].append(pk)
    frontier = [pk for pk, code, _ in rows if code in codes]
    ids = set(frontier)
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, []) if c not in ids]
        ids.update(frontier)
    return ids


def scope(plan: DrawPlan) -> QuerySet[MarketEntity]:
    """The plan's eligible entities: active, supervised by the plan's department, within its item, industry and
    division scope."""
    supervised = MarketEntity.supervising_departments.through.objects.filter(organisation=plan.department)
    qs = MarketEntity.objects.filter(status=MarketEntity.Status.ACTIVE,
                                     pk__in=supervised.values("marketentity_id"))
    if plan.industries:
        qs = qs.filter(industry__in=plan.industries)
    if plan.division_codes:
        qs = qs.filter(division_id__in=_division_ids(plan.division_codes))
    if plan.item_codes:
        qs = qs.filter(pk__in=SupervisionRecord.objects.filter(item_code__in=plan.item_codes).values("entity"))
    return qs  # subqueries only: no join, so no duplicates and no DISTINCT over the register


def draw_inputs(plan: DrawPlan) -> dict[str, Any]:
    """The published inputs of a draw of ``plan`` now, before step 2 (see :mod:`.drawing`): every eligible entity by
    grade, the department's inspectors, who inspected which entity in its previous draw."""
    by_grade: dict[str, list[str]] = {g: [] for g in drawing.GRADES}
    for code, grade in scope(plan).order_by("uscc").values_list("uscc", "grade").iterator(chunk_size=20000):
        by_grade[grade].append(code)
    inspectors = [[i.code, i.division.code, sorted(i.conflicts or [])]
                  for i in selectors.inspectors_of(plan.department).order_by("code")]
    last: dict[str, list[str]] = {}
    previous = Draw.objects.filter(plan__department=plan.department).order_by("-drawn_at", "-id").first()
    if previous is not None:
        last = {row["uscc"]: row["inspectors"] for row in previous.outcome}
    return {"plan": plan.code, "department": plan.department.code, "ratios": plan.ratios,
            "inspectors_per_entity": plan.inspectors_per_entity, "entities": by_grade, "divisions": {},
            "inspectors": inspectors, "last_inspected": last}


def _drawn_entities(codes: list[str]) -> dict[str, tuple[int, str]]:
    """``uscc → (pk, division code)`` of the drawn entities, 5,000 codes per query."""
    found: dict[str, tuple[int, str]] = {}
    for i in range(0, len(codes), 5000):
        for code, pk, division in MarketEntity.objects.filter(uscc__in=codes[i:i + 5000]).values_list(
                "uscc", "pk", "division__code"):
            found[code] = (pk, division)
    return found


def _create_inspections(draw: Draw, outcome: list[dict[str, Any]], ids: dict[str, int], insp_ids: dict[str, int],
                        department_id: int, due: date) -> None:
    """One inspection per drawn entity and its inspectors: plain multi-row INSERTs (``executemany``), since a draw
    over a large register creates tens of thousands of rows (model instances cost more than the writes)."""
    from django.db import connection

    qn = connection.ops.quote_name
    table, through = Inspection._meta.db_table, Inspection.inspectors.through._meta.db_table
    due_value = connection.ops.adapt_datefield_value(due)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {qn(table)} (draw_id, entity_id, department_id, due_on, status, findings, published) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(draw.pk, ids[r["uscc"]], department_id, due_value, Inspection.Status.ASSIGNED, "", False)
             for r in outcome])
        made = dict(Inspection.objects.filter(draw=draw).values_list("entity_id", "pk"))
        cursor.executemany(
            f"INSERT INTO {qn(through)} (inspection_id, inspector_id) VALUES (%s, %s)",
            [(made[ids[r["uscc"]]], insp_ids[c]) for r in outcome for c in r["inspectors"]])


def run_draw(plan: DrawPlan | str, *, seed: str | None = None, actor: User | None = None) -> Draw:
    """Draw entities and inspectors for a plan, store the draw with its inputs, log it; all or nothing."""
    if isinstance(plan, str):
        try:
            plan = selectors.get_plan(plan)
        except NotFound:
            raise InvalidInput(f"抽查计划“{plan}”不存在", field="plan") from None
    if actor is not None and not selectors.can_supervise(actor, plan.department):
        raise Forbidden("只有该部门监管执法人员可以抽取")
    seed = (seed or "").strip() or secrets.token_hex(16)
    with transaction.atomic():
        inputs = draw_inputs(plan)
        if not inputs["inspectors"]:
            raise InvalidInput(f"{plan.department.name} 没有在岗检查人员", field="inspectors",
                               code="supervision.no_eligible_inspectors")
        picked = drawing.pick_entities(seed, inputs["entities"], inputs["ratios"])
        drawn = {u for u, _ in picked}
        rows = _drawn_entities(sorted(drawn))
        inputs["divisions"] = {code: division for code, (_pk, division) in rows.items()}
        inputs["last_inspected"] = {u: v for u, v in inputs["last_inspected"].items() if u in drawn}
        try:
            outcome = drawing.run(seed, inputs, picked)
        except drawing.DrawError as exc:
            raise InvalidInput(str(exc), field=exc.field, code="supervision.draw_refused") from None
        draw = Draw.objects.create(plan=plan, seed=seed, algorithm=drawing.ALGORITHM, inputs=inputs, outcome=outcome,
                                   inputs_sha256=drawing.digest(inputs), outcome_sha256=drawing.digest(outcome),
                                   drawn_by=actor if actor is not None and actor.is_authenticated else None)
        ids = {code: pk for code, (pk, _division) in rows.items()}
        insp_ids = dict(Inspector.objects.filter(department=plan.department).values_list("code", "pk"))
        due = selectors.due_after(selectors.INSPECTION_WORKING_DAYS)
        _create_inspections(draw, outcome, ids, insp_ids, plan.department_id, due)
        entry = append_log("draw", {"draw": draw.pk, "plan": plan.code, "seed": seed, "algorithm": drawing.ALGORITHM,
                                    "inputs_sha256": draw.inputs_sha256, "outcome_sha256": draw.outcome_sha256})
        draw.log_index = entry.index
        draw.save(update_fields=["log_index"])
        audit("supervision.draw", actor=actor, obj=draw, detail={"plan": plan.code, "entities": len(outcome)})
    return draw


def redraw(draw: Draw | int | str) -> str | None:
    """Recompute a draw from its published seed and inputs: None when identical, else the first difference
    (including a stored input or outcome that no longer matches its logged digest)."""
    if not isinstance(draw, Draw):
        draw = selectors.get_draw(draw)
    if draw.algorithm != drawing.ALGORITHM:
        return f"unknown algorithm {draw.algorithm}"
    entry = LogEntry.objects.filter(index=draw.log_index).first() if draw.log_index is not None else None
    if entry is None:
        return "the draw is not in the supervision log"
    logged = entry.payload
    if drawing.digest(draw.inputs) != logged.get("inputs_sha256"):
        return "inputs: the stored inputs do not match the logged inputs_sha256"
    if draw.seed != logged.get("seed"):
        return f"seed: stored {draw.seed} != logged {logged.get('seed')}"
    try:
        recomputed = drawing.run(draw.seed, draw.inputs)
    except drawing.DrawError as exc:
        return f"recomputation refused: {exc}"
    difference = drawing.first_difference(draw.outcome, recomputed)
    if difference:
        return difference
    if drawing.digest(recomputed) != logged.get("outcome_sha256"):
        return "outcome: the recomputed outcome does not match the logged outcome_sha256"
    if verify_log() is not None:
        return f"log: {verify_log()}"
    return None


@transaction.atomic
def record_inspection(inspection: Inspection, user: User, *, passed: bool, findings: str,
                      publish: bool = True) -> Inspection:
    """The result of one inspection; published (公开) by default; a failure → credit event and enforcement lead."""
    inspection = Inspection.objects.select_for_update().select_related("entity", "draw").get(pk=inspection.pk)
    if not (selectors.can_supervise(user, inspection.department_id)
            or inspection.inspectors.filter(user=user).exists()):
        raise Forbidden("只有抽中的检查人员或该部门监管执法人员可以登记检查结果")
    if inspection.status != Inspection.Status.ASSIGNED:
        raise Conflict("该检查已登记结果", code="supervision.inspection_done")
    if not (findings or "").strip():
        raise InvalidInput("请填写检查结果", field="findings")
    inspection.status = Inspection.Status.PASSED if passed else Inspection.Status.FAILED
    inspection.findings, inspection.checked_at, inspection.published = findings.strip(), timezone.now(), publish
    inspection.save(update_fields=["status", "findings", "checked_at", "published"])
    add_credit_event(inspection.entity, "inspection_passed" if passed else "inspection_failed",
                     f"双随机抽查（{inspection.draw.plan.code}）：{findings.strip()}",
                     department=inspection.department, source_ref=f"draw-{inspection.draw_id}", actor=user)
    if not passed:
        EnforcementLead.objects.create(
            entity=inspection.entity, subject_name=inspection.entity.name, department=inspection.department,
            source=EnforcementLead.Source.INSPECTION, source_ref=f"draw-{inspection.draw_id}",
            description=f"双随机抽查发现问题：{findings.strip()}",
            due_on=selectors.due_after(selectors.LEAD_WORKING_DAYS))
    if publish:
        append_log("result", {"draw": inspection.draw_id, "uscc": inspection.entity.uscc,
                              "status": inspection.status, "findings": inspection.findings})
    return inspection

