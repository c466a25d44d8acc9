"""秒批 (approval by rules): an item that names a DMN decision table is decided by it when it is accepted.

The item (catalogue) names the decision (``auto_decision_key``, deployed on the workflow engine) and where each
input comes from (``auto_decision_inputs``):

- ``form.FIELD``: the application form;
- ``evidence.MATERIAL_CODE.FIELD``: a field of a material fetched from its department (免证办理); an uploaded
  file cannot be read by rules, so the input is missing; ``evidence.MATERIAL_CODE`` alone: whether the material
  was fetched;
- ``applicant.kind`` (natural / legal) and ``applicant.age`` (from the ID number's birth date);
- ``commitment``: whether the applicant signed the commitment (告知承诺);
- ``fact.NAME``: a fact another context holds about the applicant (``core.subject_facts``, e.g. the credit
  grade supervision keeps).

When every input is present the table decides: output ``outcome`` ``approve`` approves the item with no human
task (the item process skips its review task), anything else (``refer``) sends it to the department's approver,
whose task shows the rules that hit. A missing input always refers. Every evaluation is recorded
(:class:`~tongban.applications.models.AutoDecision`: table, version, inputs, hit rules, outcome) and can be
re-run for audit (:func:`explain`).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db.models import prefetch_related_objects
from django.utils import timezone

from tongban.core import subject_facts
from tongban.workflow import services as wf

from ..errors import ApplicationError
from ..models import Application, ApplicationEvent, ApplicationItem, ApplicationMaterial, AutoDecision
from .common import _label as log_label
from .common import log

APPROVE = "approve"
REFER = "refer"


def _age(id_number: str, today: dt.date) -> int | None:
    digits = (id_number or "").strip()
    if len(digits) != 18 or not digits[:17].isdigit():
        return None
    try:
        born = dt.date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _evidence_by_code(ai: ApplicationItem, rows: list[ApplicationMaterial] | None = None
                      ) -> dict[str, dict[str, Any]]:
    """Material code of this item → the fetched evidence (only fetched materials carry data). ``rows``: the
    application's material rows with their catalogue materials prefetched, read once for all its items."""
    found: dict[str, dict[str, Any]] = {}
    for row in rows if rows is not None else ai.application.materials.prefetch_related("materials"):
        if not row.evidence:
            continue
        for material in row.materials.all():
            if material.item_id == ai.item_id:
                found[material.code] = row.evidence
    return found


def _missing(value: Any) -> bool:
    return value is None or value == "" or value == []


def _needs_evidence(ai: ApplicationItem) -> bool:
    return any(s.startswith("evidence.") for s in (ai.item.auto_decision_inputs or {}).values())


def collect_inputs(ai: ApplicationItem, materials: list[ApplicationMaterial] | None = None
                   ) -> tuple[dict[str, Any], list[str]]:
    """The decision's input variables for this item, and the names of those that are missing (``materials``:
    see :func:`_evidence_by_code`)."""
    app = ai.application
    spec: dict[str, str] = ai.item.auto_decision_inputs or {}
    evidence = _evidence_by_code(ai, materials) if _needs_evidence(ai) else {}
    values: dict[str, Any] = {}
    for name, source in spec.items():
        kind, _, rest = source.partition(".")
        value: Any = None
        if kind == "form":
            value = (app.form_data or {}).get(rest)
        elif kind == "evidence":
            code, _, field = rest.partition(".")
            record = evidence.get(code)
            value = (bool(record) or None) if not field else ((record or {}).get("data") or {}).get(field)
        elif kind == "applicant":
            value = (app.applicant_kind if rest == "kind"
                     else _age(app.applicant_id_number, timezone.localdate()) if rest == "age" else None)
        elif kind == "commitment":
            value = hasattr(app, "commitment")
        elif kind == "fact":
            value = subject_facts.lookup(rest, app.applicant_id_number)
        values[name] = value
    return values, [n for n, v in values.items() if _missing(v)]


def input_labels(table_inputs: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, str]:
    """Input name → the Chinese label the table gives it (the name itself when no table input is just it)."""
    by_expression = {i["expression"]: i["label"] for i in table_inputs}
    return {name: by_expression.get(name, name) for name in values}


def _note(ai: ApplicationItem, message: str, timeline: list[ApplicationEvent] | None) -> None:
    """The item's line of the case's timeline: written now, or kept in ``timeline`` for the caller to write."""
    if timeline is None:
        log(ai.application, "auto_decision", message)
    else:
        timeline.append(ApplicationEvent(application=ai.application, kind="auto_decision", message=message[:300],
                                         actor_label=log_label(None), data={}))


def decide_items(app: Application, items: list[ApplicationItem]) -> dict[int, AutoDecision | None]:
    """:func:`decide` for every item of ``app`` (each with ``item`` loaded), reading what they share once: the
    material rows with their evidence and the items' earlier records. Application item id → record."""
    ruled = [ai for ai in items if ai.item.auto_decision_key]
    if not ruled:
        return {ai.pk: None for ai in items}
    rows: list[ApplicationMaterial] = []
    if any(_needs_evidence(ai) for ai in ruled):
        rows = list(app.materials.all())  # from memory when the submission prefetched them
        prefetch_related_objects(rows, "materials")
    cached = ApplicationItem.auto_decision.related  # the items' records, when read with them (prefetch_case)
    if all(cached.is_cached(ai) for ai in ruled):
        records = {ai.pk: rec for ai in ruled if isinstance(rec := cached.get_cached_value(ai), AutoDecision)}
    else:
        records = {r.application_item_id: r for r in AutoDecision.objects.filter(application_item__in=ruled)}
    timeline: list[ApplicationEvent] = []
    decided = {ai.pk: decide(ai, materials=rows, records=records, timeline=timeline)
               if ai.item.auto_decision_key else None for ai in items}
    ApplicationEvent.objects.bulk_create(timeline)  # each item's line of the case's timeline, in order
    return decided


def decide(ai: ApplicationItem, *, materials: list[ApplicationMaterial] | None = None,
           records: dict[int, AutoDecision] | None = None,
           timeline: list[ApplicationEvent] | None = None) -> AutoDecision | None:
    """Run the item's decision table over the collected inputs and record the result (None: the item has no
    table). Re-deciding an item (a correction, a retried start) replaces its record. ``materials`` and
    ``records`` (application item id → its record; an item not in it has none): read by the caller for all
    the items of a case (:func:`decide_items`), who also writes the timeline entries when it passes
    ``timeline``."""
    key = ai.item.auto_decision_key
    if not key:
        return None
    started = time.perf_counter()
    values, missing = collect_inputs(ai, materials)
    try:
        explained = wf.explain_decision(key, values)
    except wf.WorkflowError as exc:
        if exc.code != "workflow.decision_not_found":
            raise
        _note(ai, f"{ai.item.name}：秒批决策表 {key} 未部署，转人工审查", timeline)
        return None
    result = explained["result"]
    said = result.get("outcome") if isinstance(result, dict) else result
    reason = (result.get("reason") if isinstance(result, dict) else "") or ""
    if missing:
        outcome, reason = REFER, "缺少输入：" + "、".join(missing) + "，转人工审查"
    else:
        outcome = APPROVE if said == APPROVE else REFER
        if outcome == REFER and not reason:
            reason = "规则未准予，转人工审查" if result is not None else "没有命中的规则，转人工审查"
    fields = {
        "decision_key": explained["key"], "decision_name": explained["name"],
        "decision_version": explained["version"], "inputs": values, "sources": dict(ai.item.auto_decision_inputs),
        "missing": missing, "result": {"value": result, "labels": input_labels(explained["inputs"], values)},
        "hits": explained["hits"], "outcome": outcome, "reason": reason[:300], "decided_at": timezone.now(),
        "elapsed_ms": int((time.perf_counter() - started) * 1000)}
    if records is None:
        record, _ = AutoDecision.objects.update_or_create(application_item=ai, defaults=fields)
    elif (earlier := records.get(ai.pk)) is None:
        record = AutoDecision.objects.create(application_item=ai, **fields)
    else:
        record = earlier
        for name, value in fields.items():
            setattr(record, name, value)
        record.save(update_fields=list(fields))
    message = (f"{ai.item.name}：秒批规则（{explained['name'] or key} v{explained['version']}）"
               + ("准予，无需人工审查" if outcome == APPROVE else f"转人工审查（{reason}）"))
    _note(ai, message, timeline)
    return record


def has_rules(app: Application) -> bool:
    return app.items.exclude(item__auto_decision_key="").exists()


def explain(ref: str) -> list[dict[str, Any]]:
    """The automatic decisions of case ``ref``, each re-run (same table version, recorded inputs) for audit:
    ``agrees`` says whether the re-run gives the recorded outcome and the same hit rules."""
    app = Application.objects.filter(ref=ref).first()
    if app is None:
        raise ApplicationError(f"办件 {ref} 不存在", code="application.not_found", status=404)
    records = list(AutoDecision.objects.filter(application_item__application=app)
                   .select_related("application_item__item").order_by("id"))
    if not records:
        raise ApplicationError(f"办件 {ref} 没有自动决策（秒批）记录", code="auto_decision.none", status=404)
    out = []
    for rec in records:
        rerun = wf.explain_decision(rec.decision_key, dict(rec.inputs), version=rec.decision_version)
        said = rerun["result"].get("outcome") if isinstance(rerun["result"], dict) else rerun["result"]
        outcome = REFER if rec.missing else (APPROVE if said == APPROVE else REFER)
        agrees = outcome == rec.outcome and [h["id"] for h in rerun["hits"]] == [h["id"] for h in rec.hits]
        out.append({"item_code": rec.application_item.item.code, "item_name": rec.application_item.item.name,
                    "record": rec, "rerun": rerun, "rerun_outcome": outcome, "agrees": agrees})
    return out


def commitment_follow_up(ai: ApplicationItem) -> None:
    """An item approved by rules on a signed commitment (告知承诺) goes to supervision's post-check, as a
    commitment approval at the window does (``commitment_approved``)."""
    from tongban.core import events

    app = ai.application
    events.commitment_approved.send(
        sender=Application, application_ref=app.ref, title=app.title,
        holder={"kind": app.applicant_kind, "name": app.applicant_name, "id_number": app.applicant_id_number},
        items=[{"item_code": ai.item.code, "item_name": ai.item.name, "department_code": ai.department.code}],
        approved_on=timezone.localdate().isoformat())
    log(app, "post_check", f"{ai.item.name}：告知承诺秒批，已移交监管部门开展事后核查")
