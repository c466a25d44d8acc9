"""Facts about a subject (a person or an entity) that another context holds, for rules (秒批, 免申即享).

Applications may not import supervision (same layer), yet an auto-decision table may need an entity's credit
grade. A context that holds such a fact registers a provider in :data:`PROVIDERS` under the fact's name (e.g.
supervision registers ``credit_grade``); a rule input names ``fact.<name>`` and :func:`lookup` answers it with
the subject's ID number or unified social credit code. A provider returns None when it knows nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .registry import Registry

FactProvider = Callable[[str], Any]

PROVIDERS: Registry[str, FactProvider] = Registry("主体事实")


def lookup(name: str, subject_id_number: str) -> Any:
    """The value of fact ``name`` for the subject, or None (no provider, unknown subject, no ID number)."""
    provider = PROVIDERS.find(name)
    if provider is None or not subject_id_number:
        return None
    return provider(subject_id_number)
