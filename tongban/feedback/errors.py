"""Errors of the feedback context (好差评 ratings, rectification, 12345 work orders), with stable codes."""

from __future__ import annotations

from tongban.core.errors import DomainError

ALREADY_RATED = "feedback.already_rated"
NOT_YOURS = "feedback.not_your_service"
RATING_CLOSED = "feedback.rating_window_closed"
NOT_FOUND = "feedback.not_found"
INVALID = "feedback.invalid"
FORBIDDEN = "feedback.forbidden"
BAD_STATE = "feedback.bad_state"
IMPORT_ROW = "feedback.import_bad_row"
NO_MODEL = "feedback.no_model"


class FeedbackError(DomainError):
    code = INVALID
    status = 422


class NotFound(FeedbackError):
    code = NOT_FOUND
    status = 404


class Forbidden(FeedbackError):
    code = FORBIDDEN
    status = 403


class BadState(FeedbackError):
    code = BAD_STATE
    status = 409
