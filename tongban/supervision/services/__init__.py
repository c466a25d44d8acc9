"""Supervision write services: the entity register, 审管联动 records, post-checks, credit (events, grading, repair),
draw plans, draws and inspections, enforcement leads and the tamper-evident supervision log.

A package split along those seams; every name callers used on the former ``services`` module is re-exported here,
so ``from tongban.supervision import services`` / ``services.X`` keep working."""

from __future__ import annotations

from .. import credit, drawing, risk, selectors, uscc
from .crediting import (
    _entity_user,
    _grading,
    _reviewer_departments,
    _write_grades,
    add_credit_event,
    apply_repair,
    recompute_credit,
    regrade,
    review_repair,
)
from .draws import (
    _create_inspections,
    _division_ids,
    _drawn_entities,
    draw_inputs,
    record_inspection,
    redraw,
    run_draw,
    save_inspector,
    save_plan,
    scope,
)
from .log import (
    _leaf,
    append_log,
    verify_log,
)
from .post_checks import (
    complete_post_check,
    open_post_checks,
    remind_post_checks,
)
from .records import (
    receive_record,
    record_result,
    supervising_department,
)
from .register import (
    CSV_COLUMNS,
    INDUSTRIES,
    KIND_ALIASES,
    _clean_entity,
    _entity_for_subject,
    division_of_code,
    load_entities,
    upsert_entity,
)
from .risk_warnings import (
    RISK_DECISION,
    RISK_RULES,
    RULE_POINTS_THRESHOLD,
    _risk_model,
    commitment_refusal,
    risk_features,
    scan_risks,
    train_risk_model,
)

__all__ = [
    "credit",
    "drawing",
    "risk",
    "selectors",
    "uscc",
    "INDUSTRIES",
    "KIND_ALIASES",
    "CSV_COLUMNS",
    "division_of_code",
    "_clean_entity",
    "upsert_entity",
    "load_entities",
    "_entity_for_subject",
    "supervising_department",
    "record_result",
    "receive_record",
    "open_post_checks",
    "remind_post_checks",
    "complete_post_check",
    "add_credit_event",
    "_grading",
    "regrade",
    "recompute_credit",
    "_write_grades",
    "_entity_user",
    "_reviewer_departments",
    "apply_repair",
    "review_repair",
    "_leaf",
    "append_log",
    "verify_log",
    "save_inspector",
    "save_plan",
    "_division_ids",
    "scope",
    "draw_inputs",
    "_drawn_entities",
    "_create_inspections",
    "run_draw",
    "redraw",
    "record_inspection",
    "RISK_RULES",
    "RISK_DECISION",
    "RULE_POINTS_THRESHOLD",
    "train_risk_model",
    "_risk_model",
    "risk_features",
    "scan_risks",
    "commitment_refusal",
]
