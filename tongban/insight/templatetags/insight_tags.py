"""Template filters of the insight pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def figure(value: float | int | None) -> str:
    """A figure as people read it: ``—`` when it cannot be computed, no trailing ``.0``."""
    if value is None:
        return "—"
    return f"{value:g}"
