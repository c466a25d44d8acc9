"""The city this installation serves, in one place (站点配置).

Everything that differs per deployment is read here and nowhere else:

- the site record (``SiteConfiguration``, one row, edited in the admin or with ``tongban site set``): city and
  platform name, division code, reference-number prefix and format, the coordinating service centre, the
  operating body, the 12345 hotline number, logo and accent colour;
- two process settings: ``TONGBAN_PUBLIC_URL`` (the base of every link and QR code printed in PDFs, VCs, emails
  and pages; ``tongban demo/serve --port N`` sets it to ``http://127.0.0.1:N`` when unset) and
  ``TONGBAN_TIME_ZONE`` (``settings.TIME_ZONE``).

Without a site record the platform runs with neutral defaults (本市, 一网通办, prefix ``TB``); the demo loader
writes the demo city's record. ``current()`` caches the record per process for ``CACHE_SECONDS`` (and drops the
cache when the record is saved in this process).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from .models import SiteConfiguration

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
CACHE_SECONDS = 30.0
_SEQ = re.compile(r"\{seq:0([1-9])d\}$")


@dataclass(frozen=True)
class Site:
    """A read-only snapshot of the site record (the names templates and services use)."""

    city_name: str
    platform_name: str
    division_code: str
    reference_prefix: str
    reference_format: str
    service_centre_code: str
    service_centre_name: str
    operator_name: str
    hotline: str
    logo: str
    accent_colour: str

    @property
    def issuer(self) -> str:
        """Who issues the platform's notices (告知文书): the coordinating centre, else the platform itself."""
        return self.service_centre_name or self.platform_name

    @property
    def public_url(self) -> str:
        return public_url()


def _snapshot(record: SiteConfiguration) -> Site:
    centre, operator = record.service_centre, record.operator
    return Site(
        city_name=record.city_name, platform_name=record.platform_name, division_code=record.division_code,
        reference_prefix=record.reference_prefix, reference_format=record.reference_format,
        service_centre_code=centre.code if centre else "", service_centre_name=centre.name if centre else "",
        operator_name=operator.name if operator else record.platform_name, hotline=record.hotline,
        logo=record.logo, accent_colour=record.accent_colour)


_cache: tuple[float, Site] | None = None


def current() -> Site:
    """The site as configured now (the record, or the defaults while there is none)."""
    global _cache
    now = time.monotonic()
    if _cache is not None and now - _cache[0] < CACHE_SECONDS:
        return _cache[1]
    record = SiteConfiguration.objects.select_related("service_centre", "operator").filter(pk=1).first()
    site = _snapshot(record or SiteConfiguration(pk=1))
    _cache = (now, site)
    return site


def clear_cache(*_: Any, **__: Any) -> None:
    global _cache
    _cache = None


post_save.connect(clear_cache, sender=SiteConfiguration, dispatch_uid="tongban.site.saved")
post_delete.connect(clear_cache, sender=SiteConfiguration, dispatch_uid="tongban.site.deleted")

EDITABLE = [f.name for f in SiteConfiguration._meta.get_fields()
            if f.concrete and f.name not in ("id", "updated_at")]


def configure(**values: Any) -> Site:
    """Create or change the site record (``service_centre``/``operator`` by organisation code or instance);
    every value is validated (a bad one raises ``django.core.exceptions.ValidationError``, nothing is saved)."""
    from .models import Organisation

    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValueError(f"unknown site settings: {', '.join(sorted(unknown))} (known: {', '.join(EDITABLE)})")
    record = SiteConfiguration.objects.filter(pk=1).first() or SiteConfiguration(pk=1)
    for name, value in values.items():
        if name in ("service_centre", "operator") and isinstance(value, str):
            value = Organisation.objects.get(code=value) if value else None
        setattr(record, name, value)
    record.full_clean()
    record.save()
    return current()


def public_url() -> str:
    """The public base URL, without a trailing slash: ``settings.TONGBAN_PUBLIC_URL``, else the environment."""
    value = getattr(settings, "TONGBAN_PUBLIC_URL", None) or os.environ.get("TONGBAN_PUBLIC_URL")
    return (value or DEFAULT_PUBLIC_URL).rstrip("/")


def absolute(path: str) -> str:
    """``/verify/X/`` → ``https://zwfw.example.gov.cn/verify/X/`` (the public URL in front of a site path)."""
    return public_url() + ("" if path.startswith("/") else "/") + path


def default_public_url_for_port(port: int) -> str:
    """What ``tongban demo/serve --port N`` serves on; set as the public URL only when none is configured."""
    url = f"http://127.0.0.1:{port}"
    if not (getattr(settings, "TONGBAN_PUBLIC_URL", None) or os.environ.get("TONGBAN_PUBLIC_URL")):
        os.environ["TONGBAN_PUBLIC_URL"] = url  # the worker started by serve inherits it
    return public_url()


def reference_stem(now: dt.datetime, site: Site | None = None) -> tuple[str, int]:
    """The 办件编号 of ``now`` before its sequence number, and the sequence's width: with the default format and
    prefix ``MM``, ``("MM20261125", 6)`` → ``MM20261125000042``. The one place the format is read."""
    site = site or current()
    match = _SEQ.search(site.reference_format)
    if match is None:  # the record validates this; a defaulted record cannot get here
        raise ValueError(f"reference format must end with {{seq:0Nd}}: {site.reference_format!r}")
    head = site.reference_format[:match.start()]
    return head.format(prefix=site.reference_prefix, date=now, division=site.division_code), int(match.group(1))


def as_dict(site: Site | None = None) -> dict[str, Any]:
    site = site or current()
    return {f.name: getattr(site, f.name) for f in fields(site)} | {"public_url": public_url(),
                                                                    "time_zone": settings.TIME_ZONE}
