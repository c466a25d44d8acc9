"""Plain Chinese on pages (issue 16): names instead of codes, local time instead of UTC.

``{% load plain %}`` then ``{{ code|label:"data_resource" }}``, ``{{ codes|labels:"data_field" }}``,
``{{ code|org_name }}``, ``{{ value|local_time }}`` (datetimes, dates and ISO strings in the site's time zone,
``2026-12-05 09:30``), ``{{ value|local_date }}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from tongban.core import labels as _labels

register = template.Library()


@register.filter
def label(code: object, kind: str = "") -> str:
    return _labels.name(kind, code, fallback="—")


@register.filter
def labels(codes: Iterable[object] | str | None, kind: str = "") -> str:
    if not codes:
        return ""
    if isinstance(codes, str):
        codes = [c.strip() for c in codes.replace("、", ",").split(",") if c.strip()]
    return _labels.names(kind, codes)


@register.filter
def org_name(code: object) -> str:
    return _labels.name("organisation", code, fallback="—")


def to_local(value: object) -> dt.datetime | dt.date | None:
    if isinstance(value, str):
        parsed: dt.datetime | dt.date | None = parse_datetime(value) or parse_date(value[:10])
        if parsed is None:
            return None
        value = parsed
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, dt.UTC)
        return timezone.localtime(value)
    if isinstance(value, dt.date):
        return value
    return None


@register.filter
def local_time(value: object) -> str:
    """``2026-12-05 09:30`` in the site's time zone (a date alone: ``2026-12-05``); other values unchanged."""
    local = to_local(value)
    if local is None:
        return "" if value is None else str(value)
    if isinstance(local, dt.datetime):
        return local.strftime("%Y-%m-%d %H:%M")
    return local.strftime("%Y-%m-%d")


@register.filter
def local_date(value: object) -> str:
    local = to_local(value)
    if local is None:
        return "" if value is None else str(value)
    return local.strftime("%Y-%m-%d")
