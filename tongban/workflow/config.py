"""The engine's configuration: the settings it reads on every step (cached until ``setting_changed``) and the
fixed state sets of tokens and tasks."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .models import Task, Token

ACTIVE = Token.State.ACTIVE
WAITING = Token.State.WAITING
DONE = Token.State.DONE
OPEN_TASK_STATES = (Task.State.OPEN, Task.State.CLAIMED)

_SETTINGS: dict[str, Any] = {}


def _setting(name: str, default: Any) -> Any:
    """A setting the engine reads on every step, kept until ``setting_changed`` (a missing setting costs an
    exception inside Django's lazy settings on every lookup)."""
    try:
        return _SETTINGS[name]
    except KeyError:
        value = _SETTINGS[name] = getattr(settings, name, default)
        return value


def clear_setting_cache(**_: Any) -> None:
    _SETTINGS.clear()


def yellow_share() -> float:
    return float(_setting("TONGBAN_CLOCK_YELLOW_SHARE", 0.8))


def inline_service_tasks() -> bool:
    return bool(_setting("TONGBAN_WORKFLOW_INLINE", False))
