"""Stable error codes of the enforcement context (the API answers ``{"code", "message", "detail"?}``)."""

from __future__ import annotations

from tongban.core.errors import DomainError

INVALID = "enforcement.invalid"
NOT_FOUND = "enforcement.not_found"
FORBIDDEN = "enforcement.forbidden"
BAD_STATE = "enforcement.bad_state"
UNKNOWN_ITEM = "enforcement.unknown_item"
NO_MATCHING_LEVEL = "enforcement.no_matching_level"
INVALID_FACTS = "enforcement.invalid_facts"
INVALID_BENCHMARK = "enforcement.invalid_benchmark"
OUTSIDE_BENCHMARK = "enforcement.outside_benchmark"
LEGAL_REVIEW_REQUIRED = "enforcement.legal_review_required"
NOTICE_REQUIRED = "enforcement.notice_required"
HEARING_PENDING = "enforcement.hearing_pending"
HEARING_TOO_LATE = "enforcement.hearing_request_too_late"
RECORD_IMMUTABLE = "enforcement.record_immutable"
HEAVIER_THAN_NOTIFIED = "enforcement.heavier_than_notified"


class EnforcementError(DomainError):
    """A refused or invalid enforcement operation; ``code`` is stable, ``message`` is Chinese for people."""

    code = INVALID


class NotFound(EnforcementError):
    code = NOT_FOUND
    status = 404


class Forbidden(EnforcementError):
    code = FORBIDDEN
    status = 403


class BadState(EnforcementError):
    code = BAD_STATE
    status = 409


class BenchmarkImportError(EnforcementError):
    """A benchmark table was refused; ``detail["errors"]`` lists ``{"row", "field", "message"}``; nothing changed."""

    code = INVALID_BENCHMARK
    status = 400

    def __init__(self, problems: list[dict[str, str]]) -> None:
        first = problems[0]
        more = f"（另有 {len(problems) - 1} 处问题）" if len(problems) > 1 else ""
        super().__init__(f"{first['row']} {first['field']}：{first['message']}{more}",
                         detail={"errors": problems})
        self.problems = problems
