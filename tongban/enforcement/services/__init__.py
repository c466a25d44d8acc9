"""Writes of the enforcement context: leads, the case steps on the workflow engine, the case record (全过程记录),
the decision with its benchmark and legal-review rules, publication (公示) and the case-file export.

The rules are enforced here, not in the pages: a decision outside the benchmark range is refused
(``enforcement.outside_benchmark``) unless 减轻/从重 is justified and the legal review approved it; a major
decision (``conf.major_criteria``) before an approved legal review is refused
(``enforcement.legal_review_required``); the decision comes after the notice and the hearing window.

One module per seam:

- ``common``: the stage aliases, the penalty constants, the role and stage guards, the case lock;
- ``benchmarks``: items, discretion (裁量基准), major decisions and the hearing right;
- ``records``: the case record (全过程记录), staff certificates (行政执法证) and the case-file export (案卷归档);
- ``leads``: leads (线索), opening a case (立案) and its approval;
- ``cases``: the case steps: investigation, legal review, notice and hearing, decision, service, execution, closing;
- ``publication``: publication (公示), its withdrawal and the overdue warning.

This package re-exports every name for ``from tongban.enforcement import services``.
"""

from __future__ import annotations

from .benchmarks import MAJOR_LABELS, assess, get_item, hearing_right, is_major
from .cases import (
    UNDECIDED,
    close,
    decide,
    end_notice,
    execute,
    extend_deadline,
    finish_investigation,
    give_notice,
    hold_hearing,
    legal_review,
    request_hearing,
    serve,
    update_facts,
)
from .common import (
    ARCHIVE_RETENTION_YEARS,
    CREDIT_POINTS,
    HEARING_KINDS,
    HEARING_WINDOW_DAYS,
    ROLE_LABELS,
    SUSPENSION_KINDS,
    Review,
    Stage,
)
from .leads import decide_filing, open_case, report_lead
from .publication import publish, warn_overdue_publications, withdraw
from .records import add_record, amend_record, append_record, case_file, certify, export_case

__all__ = [
    "Stage",
    "Review",
    "CREDIT_POINTS",
    "HEARING_KINDS",
    "SUSPENSION_KINDS",
    "ARCHIVE_RETENTION_YEARS",
    "HEARING_WINDOW_DAYS",
    "get_item",
    "assess",
    "ROLE_LABELS",
    "add_record",
    "append_record",
    "amend_record",
    "certify",
    "report_lead",
    "open_case",
    "decide_filing",
    "is_major",
    "MAJOR_LABELS",
    "hearing_right",
    "update_facts",
    "finish_investigation",
    "legal_review",
    "give_notice",
    "request_hearing",
    "end_notice",
    "hold_hearing",
    "extend_deadline",
    "UNDECIDED",
    "decide",
    "serve",
    "execute",
    "close",
    "publish",
    "withdraw",
    "warn_overdue_publications",
    "case_file",
    "export_case",
]
