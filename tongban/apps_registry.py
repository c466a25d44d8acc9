"""The bounded contexts, in dependency order (later may import earlier), and the one way to discover them.

``INSTALLED_CONTEXTS`` (the contexts that are Django apps: they have an ``apps.py``) feeds ``INSTALLED_APPS``;
:func:`context_modules` yields each installed context's optional module (``api``, ``urls``, ``cli``, ``demo``,
``tasks``) for the project-level wiring, so no other module repeats the list or the import loop.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from types import ModuleType

BOUNDED_CONTEXTS: list[str] = [
    "core",
    "catalog",
    "workflow",
    "notifications",
    "applications",
    "exchange",
    "credentials",
    "supervision",
    "feedback",
    "security",
    "enforcement",
    "insight",
    "policies",
]


def _is_django_app(name: str) -> bool:
    return importlib.util.find_spec(f"tongban.{name}.apps") is not None


#: The contexts that are Django apps, in dependency order (``settings.INSTALLED_APPS`` takes them from here).
INSTALLED_CONTEXTS: list[str] = [name for name in BOUNDED_CONTEXTS if _is_django_app(name)]


def _installed(name: str) -> bool:
    from django.apps import apps

    return apps.is_installed(f"tongban.{name}") if apps.ready or apps.apps_ready else name in INSTALLED_CONTEXTS


def context_modules(submodule: str, *, core_last: bool = False) -> Iterator[tuple[str, ModuleType]]:
    """``(context, module)`` for each installed context that has ``tongban.<context>.<submodule>``, in
    dependency order (``core_last``: core after the others, e.g. for URL confs where core owns ``/``).

    A module that is missing is skipped; an import error *inside* an existing module propagates."""
    names = [n for n in BOUNDED_CONTEXTS if n != "core"] + ["core"] if core_last else BOUNDED_CONTEXTS
    for name in names:
        if not _installed(name):
            continue
        qualified = f"tongban.{name}.{submodule}"
        if importlib.util.find_spec(qualified) is None:
            continue
        yield name, importlib.import_module(qualified)
