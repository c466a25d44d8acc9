"""Stable error codes of the data exchange context (returned by the API as ``{"code", "message"}``)."""

from __future__ import annotations

from tongban.core.errors import DomainError
from tongban.core.evidence import EvidenceError

NO_GRANT = "exchange.no_grant"
GRANT_PENDING = "exchange.grant_pending"
GRANT_EXPIRED = "exchange.grant_expired"
GRANT_REVOKED = "exchange.grant_revoked"
FIELDS_NOT_GRANTED = "exchange.fields_not_granted"
NOT_SHAREABLE = "exchange.not_shareable"
NO_CONSENT = "exchange.no_consent"
UNKNOWN_RESOURCE = "exchange.unknown_resource"
UNKNOWN_CONSUMER = "exchange.unknown_consumer"
BAD_PROVIDER_ANSWER = "exchange.bad_provider_answer"
PROVIDER_UNAVAILABLE = "exchange.provider_unavailable"
NOT_FOUND = "exchange.not_found"
INVALID = "exchange.invalid"
FORBIDDEN = "exchange.forbidden"
BAD_STATE = "exchange.bad_state"
UNAUTHENTICATED = "exchange.unauthenticated"
BAD_CLIENT_KEY = "exchange.bad_client_key"
BAD_PROOF_REQUEST = "exchange.bad_proof_request"


class ExchangeError(DomainError):
    """A refused or invalid operation; ``code`` is stable, ``message`` is Chinese for people."""

    code = INVALID


class BadProofRequest(ExchangeError, ValueError):
    """A proof asked for a tree size or entry the log does not have (still a ``ValueError`` for callers)."""

    code = BAD_PROOF_REQUEST


class BadProviderAnswer(EvidenceError):
    """The provider answered with data that does not match the resource's JSON Schema (or another subject)."""

    code = BAD_PROVIDER_ANSWER
