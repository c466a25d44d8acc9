"""Application services (办件): the writes of the applications context, one module per stage of the journey.

- ``guide``: the situation guide (情形引导), the de-duplicated material plan, the (merged) form schema;
- ``proxies``: authorisations to apply for someone else (帮办代办);
- ``intake``: creating, saving and submitting an application;
- ``materials``: uploads, fetching with consent (免证办理), the commitment (告知承诺制);
- ``window``: window intake (综合窗口): accept, tolerate (容缺受理), one-time notice, refuse, record visits;
- ``auto_decisions``: 秒批, items decided by their DMN decision table, recorded for audit;
- ``decisions``: approver decisions, each item's decision, the one combined result, the case for the archive;
- ``supplements``: owed materials after tolerance (容缺补正) and corrections after a return (退回补正);
- ``post_checks``: the reaction to a failed post-check (owned by supervision): the approval is revoked;
- ``projects``: investment projects (投资项目) and their stages;
- ``common``: the status sets, the case log, the edit guard, notices.

Every public function is one transaction: a failed call leaves no half-created application and loses nothing
already submitted. Errors are :class:`~tongban.applications.errors.ApplicationError` with a stable code.
Inside the applications context import from the submodule; this package re-exports the public names for
``from tongban.applications import services``.
"""

from __future__ import annotations

from . import auto_decisions
from .common import (
    DEFAULT_SUPPLEMENT_WORKING_DAYS,
    FINAL_STATUSES,
    OPEN_STATUSES,
    PENDING_STATUSES,
    log,
    missing_materials,
)
from .decisions import (
    REASON_REQUIRED_OUTCOMES,
    RETENTION_YEARS,
    case_file_for_archive,
    decide_task,
    record_item_decision,
)
from .guide import (
    PlannedMaterial,
    Selection,
    applicable_materials,
    application_schema,
    form_schema,
    guide_questions,
    material_plan,
    pick_situation,
    selection_of,
    situation_by_code,
)
from .intake import create_application, next_ref, save_draft, submit
from .materials import (
    attach_evidence,
    attach_file,
    evidence_plan,
    fetch_evidence,
    sign_commitment,
    store_upload,
)
from .projects import create_project, link_project_stage, next_project_code
from .proxies import authorise_proxy
from .supplements import complete_correction, send_supplement_reminders, supplement_material
from .window import accept, issue_one_time_notice, record_visit, refuse

__all__ = [
    "auto_decisions",
    "DEFAULT_SUPPLEMENT_WORKING_DAYS", "FINAL_STATUSES", "OPEN_STATUSES", "PENDING_STATUSES",
    "REASON_REQUIRED_OUTCOMES", "RETENTION_YEARS",
    "PlannedMaterial", "Selection",
    "accept", "applicable_materials", "application_schema", "attach_evidence", "attach_file", "authorise_proxy",
    "case_file_for_archive", "complete_correction", "create_application", "create_project",
    "decide_task", "evidence_plan", "fetch_evidence", "form_schema", "guide_questions", "issue_one_time_notice",
    "link_project_stage", "log", "material_plan", "missing_materials", "next_project_code", "next_ref",
    "pick_situation", "record_item_decision", "record_visit", "refuse", "save_draft", "selection_of",
    "send_supplement_reminders", "sign_commitment", "situation_by_code", "store_upload", "submit",
    "supplement_material",
]
