"""Grant decisions as a process on the workflow engine (placeholder until the engine's services exist)."""

from __future__ import annotations

from typing import Any


def enabled() -> bool:
    return False


def start(grant: Any, *, actor: Any = None) -> None:
    return None


def complete(grant: Any, *, actor: Any, approve: bool, note: str = "") -> None:
    return None
