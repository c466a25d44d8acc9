"""Risk warnings (风险预警) and credit-based refusal of the commitment route."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from tongban.core.services import audit

from .. import risk, selectors
from ..errors import InvalidInput
from ..models import CreditEvent, EnforcementLead, MarketEntity, RiskModel

# --- risk warnings (风险预警) ----------------------------------------------------------------------------------------

RISK_RULES = Path(__file__).parent.with_name("risk_rules.dmn")
RISK_DECISION = "supervision_risk_rules"
RULE_POINTS_THRESHOLD = 5


def train_risk_model(*, samples: int = 20000, seed: int = 20261205) -> RiskModel:
    """Train the model on synthetic data with a known signal (``risk.synthetic``) and store it with its AUC."""
    m = risk.train(samples, seed)
    stored = RiskModel.objects.create(weights=m.weights, intercept=m.intercept, features=m.features, auc=m.auc,
                                      train_size=m.train_size, test_size=m.test_size, seed=m.seed)
    audit("supervision.risk_model", obj=stored, detail={"auc": m.auc, "samples": samples, "seed": seed})
    return stored


def _risk_model() -> risk.Model:
    stored = RiskModel.objects.first() or train_risk_model()
    return risk.Model(weights=list(stored.weights), intercept=stored.intercept, auc=stored.auc,
                      train_size=stored.train_size, test_size=stored.test_size, seed=stored.seed,
                      features=list(stored.features))


def risk_features(entities: QuerySet[MarketEntity], today: date | None = None) -> dict[int, dict[str, Any]]:
    """Per entity id: the model's features and the credit grade (the DMN rules use it too)."""
    from django.db.models import Count

    today = today or timezone.localdate()
    kinds = {"commitment_breach": "post_check_failures", "complaint_upheld": "complaints",
             "inspection_failed": "inspection_findings", "penalty": "penalties", "serious_penalty": "penalties"}
    rows: dict[int, dict[str, Any]] = {}
    for pk, established, industry, grade in entities.values_list("pk", "established_on", "industry", "grade"):
        rows[pk] = {"post_check_failures": 0, "complaints": 0, "inspection_findings": 0, "penalties": 0,
                    "age_years": round((today - established).days / 365, 1) if established else 0.0,
                    "risky_industry": 1.0 if industry in risk.RISKY_INDUSTRIES else 0.0, "grade": grade}
    counted = (CreditEvent.objects.filter(entity__in=entities, kind__in=list(kinds), repaired=False)
               .values("entity_id", "kind").annotate(n=Count("id")))
    for row in counted:
        if row["entity_id"] in rows:
            rows[row["entity_id"]][kinds[row["kind"]]] += row["n"]
    return rows


def scan_risks(*, threshold: float = risk.DEFAULT_THRESHOLD, rule_points: int = RULE_POINTS_THRESHOLD,
               today: date | None = None) -> dict[str, Any]:
    """Score every active entity with the model and the DMN rules (``risk_rules.dmn`` on the workflow engine); a
    score at or above ``threshold`` or rule points at or above ``rule_points`` becomes a warning: an enforcement lead
    for the entity's supervising department, due in 10 working days (one open warning per entity and department)."""
    if not 0 < threshold < 1:
        raise InvalidInput(f"阈值 {threshold} 应在 0 与 1 之间", field="threshold")
    from tongban.workflow import services as workflow_services

    workflow_services.deploy_decision_file(RISK_RULES)
    model = _risk_model()
    entities = MarketEntity.objects.filter(status=MarketEntity.Status.ACTIVE)
    features = risk_features(entities, today)
    first_dept: dict[int, int] = {}
    for entity_id, org_id in MarketEntity.supervising_departments.through.objects.filter(
            marketentity__in=entities).order_by("organisation_id").values_list("marketentity_id", "organisation_id"):
        first_dept.setdefault(entity_id, org_id)
    open_warnings = set(EnforcementLead.objects.filter(source=EnforcementLead.Source.WARNING,
                                                       status=EnforcementLead.Status.OPEN)
                        .values_list("entity_id", "department_id"))
    names = dict(entities.values_list("pk", "name"))
    due = selectors.due_after(selectors.LEAD_WORKING_DAYS)
    created = flagged = 0
    for entity_id, f in features.items():
        x = risk.vector(f)
        p = model.probability(x)
        points = 0
        if any(f[k] for k in ("post_check_failures", "complaints", "inspection_findings", "penalties")) \
                or f["grade"] == "D":
            points = int(workflow_services.evaluate_decision(RISK_DECISION, f) or 0)
        if p < threshold and points < rule_points:
            continue
        flagged += 1
        dept = first_dept.get(entity_id)
        if dept is None or (entity_id, dept) in open_warnings:
            continue
        why = "、".join(model.explain(x)) or "综合评分"
        EnforcementLead.objects.create(
            entity_id=entity_id, subject_name=names[entity_id], department_id=dept,
            source=EnforcementLead.Source.WARNING, source_ref=f"risk-{timezone.localdate():%Y%m%d}",
            description=f"风险预警：模型评分 {p:.2f}（阈值 {threshold:g}；{why}），规则分 {points}", due_on=due)
        created += 1
    audit("supervision.scan_risks", detail={"scanned": len(features), "flagged": flagged, "created": created})
    return {"scanned": len(features), "flagged": flagged, "warnings": created, "auc": model.auc}


def commitment_refusal(subject_id_number: str) -> str | None:
    """凭信用审批: the reason a grade-D entity may not use the commitment route, or None."""
    entity = selectors.find_entity(subject_id_number)
    if entity is None or entity.grade != "D":
        return None
    reasons = [r for r in entity.grade_reasons[1:] if "衰减" in r][:2]
    return (f"{entity.name} 信用等级为 D 级（失信），不适用告知承诺制，请提交全部材料按一般程序办理"
            + (f"。原因：{'；'.join(reasons)}" if reasons else "") + "。可在信用修复后再选择告知承诺。")
