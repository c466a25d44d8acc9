"""JSON API of the catalogue (public, no login): items, bundles, and the published power/responsibility lists.

Mounted under ``/api/``: ``/api/catalog/...`` and ``/api/lists/...``. Endpoints raise catalogue errors; the one
core handler turns them into ``{"code", "message"}`` with stable codes: ``catalog.item_not_found``,
``catalog.bundle_not_found``, ``catalog.organisation_not_found``, ``catalog.list_not_published``,
``catalog.list_version_not_found`` (404) and ``catalog.form_conflict`` (409).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from ninja import Query, Router, Schema

from tongban.core.models import Organisation
from tongban.core.openapi import ErrorOut, public

from . import formats, forms, selectors
from .errors import NotFound
from .models import Bundle, ItemType, Material, ServiceItem

catalog_router = Router(tags=["catalog 事项目录"])
lists_router = Router(tags=["lists 权责清单"])
ROUTERS = [("catalog/", catalog_router), ("lists/", lists_router)]



class OrgOut(Schema):
    code: str
    name: str


class ItemRefOut(Schema):
    code: str
    name: str


class ItemSummaryOut(Schema):
    code: str
    name: str
    item_type: str
    item_type_label: str
    node: str
    node_label: str
    handling_kind: str
    competent_department: OrgOut
    implementing_org: OrgOut
    exercise_level: str
    exercise_level_label: str
    online_level: str
    online_level_label: str
    statutory_limit_days: int | None
    promised_limit_days: int | None
    onsite_visits: int
    status: str
    version: int
    guide_url: str


class BundleMatchOut(Schema):
    code: str
    name: str
    description: str


class ItemPageOut(Schema):
    count: int
    page: int
    page_size: int
    pages: int
    items: list[ItemSummaryOut]
    bundles: list[BundleMatchOut] = []  # 一件事 matching the query's life event, best first (with a query only)


class MaterialOut(Schema):
    code: str
    name: str
    form: str
    form_label: str
    copies: int
    requirement: str
    requirement_label: str
    source: str
    source_label: str
    issuing_department: OrgOut | None
    licence_type: str
    data_resource: str
    waivable: bool
    commitment_replaceable: bool
    notes: str


class SituationOut(Schema):
    code: str
    name: str
    description: str
    conditions: dict[str, Any]
    materials: list[str]


class BundleRefOut(Schema):
    code: str
    name: str


class ItemDetailOut(ItemSummaryOut):
    parent: ItemRefOut | None
    children: list[ItemRefOut]
    handling_kind_label: str
    legal_basis: list[dict[str, Any]]
    fee_required: bool
    fees: list[dict[str, Any]]
    conditions: str
    process_steps: list[dict[str, Any]]
    excluded_steps: list[str]
    commitment_allowed: bool
    service_object: str
    result_name: str
    result_type: str
    handling_place: str
    handling_hours: str
    consultation: str
    complaint: str
    form_schema: dict[str, Any] | None
    materials: list[MaterialOut]
    situations: list[SituationOut]
    bundles: list[BundleRefOut]
    updated_at: dt.datetime


class BundleItemOut(Schema):
    code: str
    name: str
    competent_department: OrgOut
    optional: bool


class BundleOut(Schema):
    code: str
    name: str
    description: str
    lead_department: OrgOut | None
    promised_limit_days: int | None
    items: list[BundleItemOut]


class PowerOut(Schema):
    code: str
    name: str
    power_type: str
    power_type_label: str
    basis: str
    responsible_org: str
    item_code: str
    notes: str


class ResponsibilityOut(Schema):
    power_code: str
    code: str
    responsibilities: str
    accountability: str
    basis: str


class ListHeadOut(Schema):
    organisation: OrgOut
    version: int
    effective_date: dt.date
    published_at: dt.datetime | None
    change_reason: str
    count: int


class PowerListOut(ListHeadOut):
    powers: list[PowerOut]


class ResponsibilityListOut(ListHeadOut):
    responsibilities: list[ResponsibilityOut]


class VersionOut(Schema):
    version: int
    effective_date: dt.date | None
    published_at: dt.datetime | None
    change_reason: str
    power_count: int
    responsibility_count: int
    current: bool


class VersionsOut(Schema):
    organisation: OrgOut
    current_version: int | None
    versions: list[VersionOut]


class EntryChangeOut(Schema):
    code: str
    title: str
    changes: list[dict[str, Any]]  # {"field", "label", "from", "to"}


class KindDiffOut(Schema):
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[EntryChangeOut]


class DiffOut(Schema):
    organisation: str
    from_version: int
    to_version: int
    powers: KindDiffOut
    responsibilities: KindDiffOut


def _org(org: Organisation | None) -> dict[str, str] | None:
    return {"code": org.code, "name": org.name} if org is not None else None


def _item_summary(item: ServiceItem) -> dict[str, Any]:
    return {
        "code": item.code, "name": item.name, "item_type": item.item_type,
        "item_type_label": item.get_item_type_display(), "node": item.node, "node_label": item.get_node_display(),
        "handling_kind": item.handling_kind, "competent_department": _org(item.competent_department),
        "implementing_org": _org(item.implementing_org), "exercise_level": item.exercise_level,
        "exercise_level_label": item.get_exercise_level_display(), "online_level": item.online_level,
        "online_level_label": item.get_online_level_display(), "statutory_limit_days": item.statutory_limit_days,
        "promised_limit_days": item.promised_limit_days, "onsite_visits": item.onsite_visits,
        "status": item.status, "version": item.version,
        "guide_url": reverse("catalog:item", args=[item.code]),
    }


def _material(m: Material) -> dict[str, Any]:
    return {
        "code": m.code, "name": m.name, "form": m.form, "form_label": m.get_form_display(), "copies": m.copies,
        "requirement": m.requirement, "requirement_label": m.get_requirement_display(), "source": m.source,
        "source_label": m.get_source_display(), "issuing_department": _org(m.issuing_department),
        "licence_type": m.licence_type, "data_resource": m.data_resource, "waivable": m.waivable,
        "commitment_replaceable": m.commitment_replaceable, "notes": m.notes,
    }


@catalog_router.get("/items", response=ItemPageOut, summary="Search service items (事项检索)")
@public
def search_items(
    request: Any,
    q: str = "",
    department: str | None = None,
    item_type: str | None = None,
    exercise_level: str | None = None,
    online_level: str | None = None,
    page: int = Query(1, ge=1),
    page_size: int = Query(20, ge=1, le=selectors.MAX_PAGE_SIZE),
) -> dict[str, Any]:
    """Published items ranked by the catalogue search (docs/catalog.md): Chinese segmentation, colloquial phrases
    (开饭店 → 餐饮), typo tolerance; ``bundles`` lists the 一件事 matching the query, best first. A query of codes
    only (ASCII) matches codes and names as before, ordered by code. ``count`` is the total."""
    result = selectors.search_items(q, department=department, item_type=item_type, exercise_level=exercise_level,
                                    online_level=online_level, page=page, page_size=page_size)
    return {"count": result.count, "page": result.page, "page_size": result.page_size, "pages": result.pages,
            "items": [_item_summary(i) for i in result.items],
            "bundles": [{"code": b.code, "name": b.name, "description": b.description} for b in result.bundles]}


@catalog_router.get("/items/{code}", response={200: ItemDetailOut, 404: ErrorOut},
                    summary="Item guide with all elements (办事指南)")
@public
def get_item(request: Any, code: str) -> Any:
    guide = selectors.item_guide(code)
    if guide is None:
        raise NotFound(f"没有编码为 {code} 的已发布事项", code="catalog.item_not_found")
    item = guide.item
    return {
        **_item_summary(item),
        "parent": {"code": item.parent.code, "name": item.parent.name} if item.parent_id else None,
        "children": [{"code": c.code, "name": c.name} for c in guide.children],
        "handling_kind_label": item.get_handling_kind_display() if item.handling_kind else "",
        "legal_basis": item.legal_basis, "fee_required": item.fee_required, "fees": item.fees,
        "conditions": item.conditions, "process_steps": item.process_steps, "excluded_steps": guide.excluded_steps,
        "commitment_allowed": item.commitment_allowed, "service_object": item.service_object,
        "result_name": item.result_name, "result_type": item.result_type, "handling_place": item.handling_place,
        "handling_hours": item.handling_hours, "consultation": item.consultation, "complaint": item.complaint,
        "form_schema": item.form_schema,
        "materials": [_material(m) for m in guide.materials],
        "situations": [{"code": s.situation.code, "name": s.situation.name, "description": s.situation.description,
                        "conditions": s.situation.conditions, "materials": [m.code for m in s.materials]}
                       for s in guide.situations],
        "bundles": [{"code": b.code, "name": b.name} for b in guide.bundles],
        "updated_at": item.updated_at,
    }


def _bundle(bundle: Bundle) -> dict[str, Any]:
    return {
        "code": bundle.code, "name": bundle.name, "description": bundle.description,
        "lead_department": _org(bundle.lead_department), "promised_limit_days": bundle.promised_limit_days,
        "items": [{"code": link.item.code, "name": link.item.name,
                   "competent_department": _org(link.item.competent_department), "optional": link.optional}
                  for link in bundle.bundle_items.all()],
    }


@catalog_router.get("/bundles", response=list[BundleOut], summary="One-thing bundles (一件事)")
@public
def list_bundles(request: Any) -> list[dict[str, Any]]:
    return [_bundle(b) for b in selectors.list_bundles()]


def _get_bundle(code: str) -> Bundle:
    bundle = selectors.get_bundle(code)
    if bundle is None:
        raise NotFound(f"没有编码为 {code} 的一件事", code="catalog.bundle_not_found")
    return bundle


@catalog_router.get("/bundles/{code}", response={200: BundleOut, 404: ErrorOut}, summary="One bundle (一件事)")
@public
def get_bundle(request: Any, code: str) -> Any:
    return _bundle(_get_bundle(code))


@catalog_router.get("/bundles/{code}/form", response={200: dict, 404: ErrorOut, 409: ErrorOut},
                    summary="The merged form of a bundle (一件事一张表): each field once, with the items that use it")
@public
def bundle_form(request: Any, code: str) -> Any:
    """``schema`` is one JSON Schema (draft 2020-12) for the whole bundle: a field needed by several items
    appears once and lists them in ``x-tongban-items``; ``fields`` lists every field with ``items``;
    ``materials`` lists each distinct material once with the items that need it."""
    return forms.bundle_form(_get_bundle(code))


# --- lists -----------------------------------------------------------------------------------------


def _organisation(code: str) -> Organisation:
    org = selectors.get_organisation(code)
    if org is None:
        raise NotFound(f"没有编码为 {code} 的机构", code="catalog.organisation_not_found")
    return org


def _current_list(org_code: str, on: dt.date | None, kind: str) -> dict[str, Any]:
    """The version in force today (or on ``on``) of one list kind, with its head."""
    org = _organisation(org_code)
    current = selectors.current_duty_list(org, on)
    if current is None:
        when = on.isoformat() if on else "今天"
        raise NotFound(f"{org.name} 在{when}没有生效的权责清单", code="catalog.list_not_published")
    entries = selectors.powers_of(current) if kind == "powers" else selectors.responsibilities_of(current)
    rows = [formats.entry_to_dict(kind, e) for e in entries]
    if kind == "powers":
        labels = {value: str(label) for value, label in ItemType.choices}
        rows = [{**p, "power_type_label": labels.get(p["power_type"], p["power_type"])} for p in rows]
    return {"organisation": _org(org), "version": current.version, "effective_date": current.effective_date,
            "published_at": current.published_at, "change_reason": current.change_reason, "count": len(rows),
            kind: rows}


@lists_router.get("/{org_code}/powers", response={200: PowerListOut, 404: ErrorOut},
                  summary="Current published power list of an organisation (权力清单)")
@public
def powers(request: Any, org_code: str, on: dt.date | None = None) -> Any:
    """The version in force today (or on ``on``), with its version number and effective date."""
    return _current_list(org_code, on, "powers")


@lists_router.get("/{org_code}/responsibilities", response={200: ResponsibilityListOut, 404: ErrorOut},
                  summary="Current published responsibility list of an organisation (责任清单)")
@public
def responsibilities(request: Any, org_code: str, on: dt.date | None = None) -> Any:
    """The version in force today (or on ``on``), with its version number and effective date."""
    return _current_list(org_code, on, "responsibilities")


@lists_router.get("/{org_code}/versions", response={200: VersionsOut, 404: ErrorOut},
                  summary="Published versions of an organisation's list")
@public
def versions(request: Any, org_code: str) -> Any:
    org = _organisation(org_code)
    current = selectors.current_duty_list(org)
    return {
        "organisation": _org(org), "current_version": current.version if current else None,
        "versions": [{"version": d.version, "effective_date": d.effective_date, "published_at": d.published_at,
                      "change_reason": d.change_reason, "power_count": d.power_count,
                      "responsibility_count": d.responsibility_count,
                      "current": current is not None and d.pk == current.pk}
                     for d in selectors.duty_list_versions(org)],
    }


@lists_router.get("/{org_code}/diff", response={200: DiffOut, 404: ErrorOut},
                  summary="Differences between two published versions")
@public
def diff(request: Any, org_code: str, from_: int | None = Query(None, alias="from"),
         to: int | None = None) -> Any:
    """Entries added, removed and changed (field by field) from version ``from`` to version ``to``.

    ``to`` defaults to the current version, ``from`` to the published version before ``to``.
    """
    org = _organisation(org_code)
    new = selectors.get_duty_list_version(org, to) if to else selectors.current_duty_list(org)
    if new is None:
        raise NotFound(f"{org.name} 没有已发布的 v{to}" if to else f"{org.name} 没有生效的权责清单",
                       code="catalog.list_version_not_found")
    old = selectors.get_duty_list_version(org, from_) if from_ else selectors.previous_published(new)
    if old is None:
        raise NotFound(f"{org.name} 没有已发布的 v{from_}" if from_ else f"v{new.version} 之前没有已发布的版本",
                       code="catalog.list_version_not_found")
    return selectors.diff_to_dict(selectors.diff_duty_lists(old, new))
