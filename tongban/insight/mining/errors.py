"""Errors of process mining (event-log export, discovery, conformance), with stable codes."""

from __future__ import annotations

from tongban.core.errors import DomainError

INVALID = "insight.mining_invalid"
NOT_FOUND = "insight.mining_not_found"


class MiningError(DomainError):
    code = INVALID
    status = 422


class NotFound(MiningError):
    code = NOT_FOUND
    status = 404
