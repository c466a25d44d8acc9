"""Errors of the insight context, with stable codes."""

from __future__ import annotations

from tongban.core.errors import DomainError

INVALID = "insight.invalid"
BAD_PERIOD = "insight.bad_period"
NOT_FOUND = "insight.not_found"
BAD_DEFINITIONS = "insight.bad_definitions"


class InsightError(DomainError):
    code = INVALID
    status = 422


class BadPeriod(InsightError):
    """The period is not a month written ``YYYY-MM``."""

    code = BAD_PERIOD
    status = 422


class NotFound(InsightError):
    code = NOT_FOUND
    status = 404


class BadDefinitions(InsightError):
    """The indicator file does not follow its schema (the message names the indicator and the field)."""

    code = BAD_DEFINITIONS
    status = 422
