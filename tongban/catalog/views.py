"""Public pages of the catalogue (no login): browse/search, item guides, bundles, power/responsibility lists."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from . import selectors
from .models import ExerciseLevel, ItemType, OnlineLevel

PAGE_SIZE = 20


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _choice(value: str | None, choices: list[tuple[str, str]]) -> str:
    return value if value in dict(choices) else ""


def catalog_index(request: HttpRequest) -> HttpResponse:
    """Browse and search published items (搜索事项), with filters and pagination."""
    departments = selectors.item_departments()
    filters = {
        "q": request.GET.get("q", "").strip()[:100],
        "department": _choice(request.GET.get("department"), [(o.code, o.name) for o in departments]),
        "item_type": _choice(request.GET.get("item_type"), ItemType.choices),
        "exercise_level": _choice(request.GET.get("exercise_level"), ExerciseLevel.choices),
        "online_level": _choice(request.GET.get("online_level"), OnlineLevel.choices),
    }
    page = selectors.search_items(filters["q"], department=filters["department"] or None,
                                  item_type=filters["item_type"] or None,
                                  exercise_level=filters["exercise_level"] or None,
                                  online_level=filters["online_level"] or None,
                                  page=_int(request.GET.get("page")) or 1, page_size=PAGE_SIZE)
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "catalog/index.html", {
        "page": page, "filters": filters, "query": query, "departments": departments,
        "item_types": ItemType.choices, "levels": ExerciseLevel.choices, "online_levels": OnlineLevel.choices,
        "filtered": any(filters.values()),
    })


def item_guide(request: HttpRequest, code: str) -> HttpResponse:
    """The guide of one item (办事指南) with all its elements."""
    guide = selectors.item_guide(code)
    if guide is None:
        raise Http404("没有这个事项")
    return render(request, "catalog/item.html", {"guide": guide, "item": guide.item})


def bundle_list(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/bundles.html", {"bundles": selectors.list_bundles()})


def bundle_detail(request: HttpRequest, code: str) -> HttpResponse:
    bundle = selectors.get_bundle(code)
    if bundle is None:
        raise Http404("没有这个一件事")
    links = list(bundle.bundle_items.all())
    departments = list(dict.fromkeys(link.item.competent_department for link in links))
    return render(request, "catalog/bundle.html", {"bundle": bundle, "links": links, "departments": departments})


def lists_index(request: HttpRequest) -> HttpResponse:
    """Organisations with a published list in force today (权责清单公开)."""
    return render(request, "catalog/lists.html", {"summaries": selectors.organisations_with_lists(),
                                                  "today": timezone.localdate()})


def list_detail(request: HttpRequest, org_code: str) -> HttpResponse:
    """The current (or, with ``?version=N``, an earlier) published power and responsibility list."""
    org = selectors.get_organisation(org_code)
    if org is None:
        raise Http404("没有这个机构")
    current = selectors.current_duty_list(org)
    wanted = _int(request.GET.get("version"))
    shown = selectors.get_duty_list_version(org, wanted) if wanted else current
    versions = selectors.duty_list_versions(org)
    if shown is None or not versions:
        raise Http404("没有这个版本的权责清单")
    powers = selectors.powers_of(shown)
    names = {p.code: p.name for p in powers}
    responsibilities = [(r, names.get(r.power_code, "")) for r in selectors.responsibilities_of(shown)]
    previous = selectors.previous_published(shown)
    context: dict[str, Any] = {
        "org": org, "shown": shown, "current": current, "versions": versions, "powers": powers,
        "responsibilities": responsibilities, "previous": previous, "today": timezone.localdate(),
        "is_current": current is not None and shown.pk == current.pk,
    }
    return render(request, "catalog/list.html", context)


def list_diff(request: HttpRequest, org_code: str) -> HttpResponse:
    """What changed between two published versions (``?from=N&to=M``; default: the current and the one before)."""
    org = selectors.get_organisation(org_code)
    if org is None:
        raise Http404("没有这个机构")
    to, from_ = _int(request.GET.get("to")), _int(request.GET.get("from"))
    new = selectors.get_duty_list_version(org, to) if to else selectors.current_duty_list(org)
    if new is None:
        raise Http404("没有这个版本")
    old = selectors.get_duty_list_version(org, from_) if from_ else selectors.previous_published(new)
    if old is None:
        raise Http404("没有可比较的早期版本")
    return render(request, "catalog/list_diff.html", {
        "org": org, "diff": selectors.diff_duty_lists(old, new), "versions": selectors.duty_list_versions(org),
    })
