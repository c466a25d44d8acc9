"""The workflow context's domain errors (on the one core base, ``tongban.core.errors.DomainError``).

``WorkflowError`` is what every refused workflow operation raises: a stable ``code`` (``workflow.task_not_held``,
``workflow.unknown_outcome``, ...; the API returns it) and an HTTP ``status`` hint. A BPMN or DMN file that
cannot be deployed raises the parser's ``DefinitionError`` (every problem as ``FILE:LINE: element ID: message``),
re-exported here so callers need one import.
"""

from __future__ import annotations

from tongban.core.errors import DomainError

from .bpmn import DefinitionError, Issue

__all__ = ["DefinitionError", "Issue", "WorkflowError"]


class WorkflowError(DomainError):
    """A workflow operation that cannot be done; ``code`` is stable (the API returns it), ``status`` an HTTP hint."""

    code = "workflow.error"
