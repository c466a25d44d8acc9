"""Published item and bundle definitions kept per process for the application hot path.

Creating an application reads the whole definition of an item or a bundle (items, departments, situations and
their materials: five queries) and submitting it merges the items' form schemas; both change only when the
catalogue is edited. They are kept here for ``TONGBAN_CATALOG_CACHE_SECONDS`` (default 5): any save or
delete of a catalogue row in this process empties the cache at once, and another process (a second web worker,
the background worker) sees the change within those seconds. ``0`` turns the cache off.

Cached model objects are shared between requests: read them, never change them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.db.models import Prefetch
from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import Bundle, BundleItem, ItemStatus, ServiceItem

T = TypeVar("T")
_cache: dict[Hashable, tuple[float, Any]] = {}
_lock = threading.Lock()
MAX_ENTRIES = 2048


def ttl() -> float:
    return float(getattr(settings, "TONGBAN_CATALOG_CACHE_SECONDS", 5))


def cached(key: Hashable, build: Callable[[], T]) -> T:
    """The value kept under ``key`` if younger than the TTL, else ``build()`` (kept when not None)."""
    seconds = ttl()
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = build()
    if seconds > 0 and value is not None:
        with _lock:
            if len(_cache) >= MAX_ENTRIES:
                _cache.clear()
            _cache[key] = (now + seconds, value)
    return value


def clear(**_: Any) -> None:
    with _lock:
        _cache.clear()


def _catalogue_changed(sender: Any, **kwargs: Any) -> None:
    if getattr(getattr(sender, "_meta", None), "app_label", None) == "catalog":
        clear()


post_save.connect(_catalogue_changed, dispatch_uid="catalog.definitions.save")
post_delete.connect(_catalogue_changed, dispatch_uid="catalog.definitions.delete")
m2m_changed.connect(_catalogue_changed, dispatch_uid="catalog.definitions.m2m")
setting_changed.connect(clear, dispatch_uid="catalog.definitions.settings")


def _definition_prefetch(prefix: str = "") -> list[Any]:
    return [f"{prefix}situations__materials", f"{prefix}materials"]


def published_item(code: str) -> ServiceItem | None:
    """The published item ``code`` with its departments, situations (with their materials) and materials."""
    def build() -> ServiceItem | None:
        return (ServiceItem.objects.filter(code=code, status=ItemStatus.PUBLISHED)
                .select_related("competent_department", "implementing_org", "parent")
                .prefetch_related(*_definition_prefetch()).first())
    return cached(("item", code), build)


def published_bundle(code: str) -> Bundle | None:
    """The published bundle ``code`` with its items in order, each as complete as :func:`published_item`."""
    def build() -> Bundle | None:
        links = BundleItem.objects.select_related("item", "item__competent_department",
                                                  "item__implementing_org").order_by("order")
        return (Bundle.objects.filter(code=code, status=ItemStatus.PUBLISHED).select_related("lead_department")
                .prefetch_related(Prefetch("bundle_items", queryset=links),
                                  *_definition_prefetch("bundle_items__item__")).first())
    return cached(("bundle", code), build)
