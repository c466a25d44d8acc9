"""Demo data for the whole platform: each bounded context's ``demo.load(console)``, in dependency order.

Loading is idempotent: running ``tongban demo`` twice leaves one copy of everything.
"""

from __future__ import annotations

import importlib

from django.apps import apps
from rich.console import Console

from tongban.apps_registry import BOUNDED_CONTEXTS


def load_demo(console: Console | None = None) -> None:
    console = console or Console(stderr=True)
    for name in BOUNDED_CONTEXTS:
        if not apps.is_installed(f"tongban.{name}"):
            continue
        try:
            module = importlib.import_module(f"tongban.{name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"tongban.{name}.demo":
                raise
            continue
        module.load(console)
