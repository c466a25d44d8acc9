"""Project-wide architecture checks that need several contexts at once."""

from __future__ import annotations

from tongban.core.errors import DomainError


def test_every_context_error_derives_from_the_one_base():
    from tongban.applications.errors import ApplicationError
    from tongban.catalog.errors import CatalogError
    from tongban.core.evidence import EvidenceError
    from tongban.credentials.errors import CredentialError
    from tongban.exchange.errors import ExchangeError
    from tongban.workflow.engine import WorkflowError

    for cls in (ApplicationError, CatalogError, CredentialError, EvidenceError, ExchangeError, WorkflowError):
        assert issubclass(cls, DomainError), cls
