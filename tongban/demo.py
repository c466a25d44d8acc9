"""Demo data for the whole platform: each bounded context's ``demo.load(console)``, in dependency order.

Loading is idempotent: running ``tongban demo`` twice leaves one copy of everything.
"""

from __future__ import annotations

from rich.console import Console

from tongban.apps_registry import context_modules


def load_demo(console: Console | None = None) -> None:
    console = console or Console(stderr=True)
    for _, module in context_modules("demo"):
        module.load(console)
