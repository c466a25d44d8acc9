"""Catalogue write services: service items, bundles, and versioned power/responsibility lists (权责清单).

Every change records who, when and why: the simple_history record of the changed row carries
``history_user`` and ``history_change_reason``, and ``tongban.core.services.audit`` appends an audit entry.

Item versions: an item starts at version 1; every change to a published item (or one that publishes or
retires it) adds 1. Saving identical content changes nothing (no version, no history, no audit).

Duty list versions: a draft is created from the organisation's latest version, edited, then published
with an effective date. Published versions are frozen (editing raises ``FrozenListError``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from tongban.core.models import Organisation, User
from tongban.core.services import audit

from . import formats, selectors
from .errors import CatalogError
from .models import (
    Bundle,
    BundleItem,
    DutyList,
    ItemStatus,
    ItemType,
    Material,
    PowerEntry,
    ResponsibilityEntry,
    ServiceItem,
    Situation,
    chinese_labels,
    ensure_draft,
)

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"

OrgCache = dict[str, Organisation]


def _user(actor: User | None) -> User | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _mark(obj: Any, actor: User | None, reason: str) -> None:
    """Who and why for the simple_history record written by the next ``save()``."""
    obj._history_user = _user(actor)
    obj._change_reason = reason


def resolve_organisation(code: str, cache: OrgCache | None = None) -> Organisation:
    if cache is not None and code in cache:
        return cache[code]
    org = Organisation.objects.filter(code=code).first()
    if org is None:
        raise CatalogError(f"未知的机构编码 “{code}”", code="catalog.unknown_organisation")
    if cache is not None:
        cache[code] = org
    return org


def _full_clean(obj: Any, exclude: Sequence[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        parts = [f"{field}: {'；'.join(msgs)}" for field, msgs in exc.message_dict.items()]
        raise CatalogError(f"{obj._meta.verbose_name}数据无效：{'；'.join(parts)}") from exc


def _forget_prefetched(obj: Any) -> None:
    """Drop prefetched relations after changing them, so that ``obj.<relation>.all()`` reads the new rows."""
    getattr(obj, "_prefetched_objects_cache", {}).clear()


# --- service items ------------------------------------------------------------------------------


def _item_for_compare(code: str) -> ServiceItem | None:
    return (
        ServiceItem.objects.filter(code=code)
        .select_related("competent_department", "implementing_org", "reviewing_org", "parent")
        .prefetch_related("materials__issuing_department", "situations__materials")
        .first()
    )


@transaction.atomic
def upsert_item(data: dict[str, Any], *, actor: User | None = None, reason: str = "",
                orgs: OrgCache | None = None) -> tuple[ServiceItem, str]:
    """Create or update an item (by ``code``) from its file form, replacing its materials and situations.

    Returns the item and ``"created"``, ``"updated"`` or ``"unchanged"``.
    """
    full = formats.normalize_item(data)
    item = _item_for_compare(full["code"])
    if item is not None and formats.item_to_dict(item) == full:
        return item, UNCHANGED
    competent = resolve_organisation(full["competent_department"], orgs)
    implementing = resolve_organisation(full["implementing_org"], orgs)
    reviewing = resolve_organisation(full["reviewing_org"], orgs) if full["reviewing_org"] else None
    parent = None
    if full["parent"]:
        if full["parent"] == full["code"]:
            raise CatalogError(f"事项 {full['code']} 不能以自身为上级事项", code="catalog.invalid_parent")
        parent = ServiceItem.objects.filter(code=full["parent"]).first()
        if parent is None:
            raise CatalogError(f"未知的上级事项编码 “{full['parent']}”", code="catalog.unknown_item")
    creating = item is None
    old_status = None if item is None else item.status
    if item is None:
        item = ServiceItem(code=full["code"])
    for field in formats.ITEM_PLAIN_FIELDS:
        setattr(item, field, full[field])
    item.competent_department = competent
    item.implementing_org = implementing
    item.reviewing_org = reviewing
    item.parent = parent
    _full_clean(item, exclude=["competent_department", "implementing_org", "reviewing_org", "parent"])
    if not creating and ItemStatus.PUBLISHED in (old_status, item.status):
        item.version += 1
    _mark(item, actor, reason or ("新建事项" if creating else "修改事项"))
    item.save()
    materials = _sync_materials(item, full["materials"], orgs)
    _sync_situations(item, full["situations"], materials)
    _forget_prefetched(item)
    audit("catalog.item.created" if creating else "catalog.item.updated", actor=_user(actor), obj=item,
          reason=reason, detail={"code": item.code, "version": item.version, "status": item.status})
    return item, CREATED if creating else UPDATED


def _sync_materials(item: ServiceItem, materials: list[dict[str, Any]], orgs: OrgCache | None
                    ) -> dict[str, Material]:
    existing = {m.code: m for m in item.materials.all()}
    result: dict[str, Material] = {}
    item.materials.exclude(code__in=[m["code"] for m in materials]).delete()
    for order, data in enumerate(materials):
        material = existing.get(data["code"]) or Material(item=item, code=data["code"])
        for field in formats.MATERIAL_PLAIN_FIELDS:
            setattr(material, field, data[field])
        material.issuing_department = (
            resolve_organisation(data["issuing_department"], orgs) if data["issuing_department"] else None
        )
        material.order = order
        _full_clean(material, exclude=["item", "issuing_department"])
        material.save()
        result[material.code] = material
    return result


def _sync_situations(item: ServiceItem, situations: list[dict[str, Any]], materials: dict[str, Material]) -> None:
    existing = {s.code: s for s in item.situations.all()}
    item.situations.exclude(code__in=[s["code"] for s in situations]).delete()
    for order, data in enumerate(situations):
        situation = existing.get(data["code"]) or Situation(item=item, code=data["code"])
        situation.name = data["name"]
        situation.description = data["description"]
        situation.conditions = data["conditions"]
        situation.order = order
        situation.save()
        unknown = [c for c in data["materials"] if c not in materials]
        if unknown:
            raise CatalogError(f"办理情形 {data['code']} 引用了事项 {item.code} 没有的材料：{'、'.join(unknown)}",
                               code="catalog.unknown_material")
        situation.materials.set([materials[c] for c in data["materials"]])


def _set_item_status(item: ServiceItem, status: str, action: str, *, actor: User | None, reason: str
                     ) -> ServiceItem:
    if item.status == status:
        return item
    item.status = status
    item.version += 1
    _mark(item, actor, reason or chinese_labels(ItemStatus)[status])
    item.save(update_fields=["status", "version", "updated_at"])
    audit(action, actor=_user(actor), obj=item, reason=reason, detail={"code": item.code, "version": item.version})
    return item


@transaction.atomic
def publish_item(item: ServiceItem, *, actor: User | None = None, reason: str = "") -> ServiceItem:
    """Publish an item (发布): version + 1. Publishing a published item changes nothing."""
    return _set_item_status(item, ItemStatus.PUBLISHED, "catalog.item.published", actor=actor, reason=reason)


@transaction.atomic
def retire_item(item: ServiceItem, *, actor: User | None = None, reason: str = "") -> ServiceItem:
    """Retire an item (停用): it leaves the public catalogue; version + 1."""
    return _set_item_status(item, ItemStatus.RETIRED, "catalog.item.retired", actor=actor, reason=reason)


@transaction.atomic
def set_supervision(item_code: str, department_code: str, follow_up: str = "", *, actor: User | None = None,
                    reason: str = "") -> ServiceItem:
    """审管联动 per item: the department that supervises it after approval and the check that follows."""
    item = ServiceItem.objects.filter(code=item_code).first()
    if item is None:
        raise CatalogError(f"事项 {item_code} 不存在", code="catalog.item_not_found", status=404)
    dept = resolve_organisation(department_code)
    if item.supervising_department_id == dept.pk and item.post_approval_check == follow_up:
        return item
    item.supervising_department, item.post_approval_check = dept, follow_up
    _mark(item, actor, reason or "设置监管部门")
    item.save(update_fields=["supervising_department", "post_approval_check", "updated_at"])
    audit("catalog.item.supervision", actor=_user(actor), obj=item,
          detail={"code": item.code, "department": dept.code, "follow_up": follow_up})
    return item


# --- bundles (一件事) -----------------------------------------------------------------------------


@transaction.atomic
def upsert_bundle(data: dict[str, Any], *, actor: User | None = None, reason: str = "",
                  orgs: OrgCache | None = None) -> tuple[Bundle, str]:
    """Create or update a bundle (by ``code``) with its items in order; ``optional_items`` are optional."""
    full = formats.normalize_bundle(data)
    bundle = (Bundle.objects.filter(code=full["code"]).select_related("lead_department")
              .prefetch_related("bundle_items__item").first())
    if bundle is not None and formats.bundle_to_dict(bundle) == full:
        return bundle, UNCHANGED
    items = {i.code: i for i in ServiceItem.objects.filter(code__in=full["items"])}
    unknown = [c for c in full["items"] if c not in items]
    if unknown:
        raise CatalogError(f"一件事 {full['code']} 引用了未知事项：{'、'.join(unknown)}", code="catalog.unknown_item")
    creating = bundle is None
    if bundle is None:
        bundle = Bundle(code=full["code"])
    bundle.name = full["name"]
    bundle.description = full["description"]
    bundle.lead_department = (
        resolve_organisation(full["lead_department"], orgs) if full["lead_department"] else None
    )
    bundle.promised_limit_days = full["promised_limit_days"]
    bundle.status = full["status"]
    _full_clean(bundle, exclude=["lead_department"])
    bundle.save()
    _forget_prefetched(bundle)
    bundle.bundle_items.exclude(item__code__in=full["items"]).delete()
    links = {link.item_id: link for link in bundle.bundle_items.all()}
    optional = set(full["optional_items"])
    for order, code in enumerate(full["items"]):
        item = items[code]
        link = links.get(item.pk) or BundleItem(bundle=bundle, item=item)
        link.order = order
        link.optional = code in optional
        link.save()
    _forget_prefetched(bundle)
    audit("catalog.bundle.created" if creating else "catalog.bundle.updated", actor=_user(actor), obj=bundle,
          reason=reason, detail={"code": bundle.code, "items": full["items"]})
    return bundle, CREATED if creating else UPDATED


# --- power and responsibility lists (权责清单) ----------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """How services name and store one list kind."""

    model: type[PowerEntry] | type[ResponsibilityEntry]
    label: str  # 权力事项 / 责任事项
    code_label: str
    short: str  # in "草稿中没有 …"
    audit: str  # audit action and detail key
    unknown: str  # error code when a code is not in the draft


_KINDS = {
    "powers": _Kind(PowerEntry, "权力事项", "职权编码", "职权", "power", "catalog.unknown_power"),
    "responsibilities": _Kind(ResponsibilityEntry, "责任事项", "责任编码", "责任事项", "responsibility",
                              "catalog.unknown_responsibility"),
}


@transaction.atomic
def create_draft(organisation: Organisation, *, actor: User | None = None, reason: str = "") -> DutyList:
    """A new draft version of ``organisation``'s list, holding a copy of the latest version's entries."""
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()  # one new version at a time
    draft = DutyList.objects.filter(organisation=organisation, status=DutyList.Status.DRAFT).first()
    if draft is not None:
        raise CatalogError(f"{organisation.code} 已有未发布的草稿 v{draft.version}，请先发布或删除该草稿",
                           code="catalog.draft_exists")
    base = selectors.latest_version(organisation)
    duty_list = DutyList(organisation=organisation, version=base.version + 1 if base else 1,
                         status=DutyList.Status.DRAFT, change_reason=reason, created_by=_user(actor))
    _mark(duty_list, actor, reason or "新建草稿")
    duty_list.save()
    for kind in formats.LIST_KINDS if base is not None else ():
        model = _KINDS[kind].model
        copies = [model(duty_list=duty_list, order=e.order, **formats.entry_to_dict(kind, e))
                  for e in getattr(base, kind).all()]
        bulk_create_with_history(copies, model, default_user=_user(actor),
                                 default_change_reason=f"由 v{duty_list.version - 1} 复制")
    audit("catalog.list.draft_created", actor=_user(actor), obj=duty_list, reason=reason,
          detail={"organisation": organisation.code, "version": duty_list.version,
                  "base_version": base.version if base else None})
    return duty_list


def _check_entry(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The complete form of a list entry; refused when a required value is blank or the power type unknown."""
    full = formats.normalize_entry(kind, data)
    missing = [k for k in formats.ENTRY_REQUIRED[kind] if not str(full[k] or "").strip()]
    if missing:
        raise CatalogError(f"{_KINDS[kind].label}缺少必填字段：{'、'.join(missing)}", code="catalog.invalid_entry")
    if kind == "powers" and full["power_type"] not in ItemType.values:
        raise CatalogError(f"未知的职权类型 “{full['power_type']}”", code="catalog.invalid_entry")
    return full


def _set_entry(kind: str, duty_list: DutyList, data: dict[str, Any], actor: User | None,
               reason: str) -> PowerEntry | ResponsibilityEntry:
    ensure_draft(duty_list)
    spec = _KINDS[kind]
    full = _check_entry(kind, data)
    if kind == "responsibilities" and not duty_list.powers.filter(code=full["power_code"]).exists():
        raise CatalogError(f"责任事项 {full['code']} 对应的职权编码 “{full['power_code']}” 不在该清单中",
                           code="catalog.unknown_power")
    entries = getattr(duty_list, kind)
    entry = entries.filter(code=full["code"]).first() or spec.model(duty_list=duty_list, order=entries.count())
    for key, value in full.items():
        setattr(entry, key, value)
    _mark(entry, actor, reason or f"修改{spec.label}")
    entry.save()
    audit(f"catalog.list.{spec.audit}_set", actor=_user(actor), obj=duty_list, reason=reason,
          detail={"version": duty_list.version, spec.audit: full["code"]})
    return entry


def _remove_entry(kind: str, duty_list: DutyList, code: str, actor: User | None, reason: str) -> None:
    ensure_draft(duty_list)
    spec = _KINDS[kind]
    entry = getattr(duty_list, kind).filter(code=code).first()
    if entry is None:
        raise CatalogError(f"草稿 v{duty_list.version} 中没有{spec.short} {code}", code=spec.unknown)
    if kind == "powers":
        for resp in duty_list.responsibilities.filter(power_code=code):
            _mark(resp, actor, reason or f"随职权 {code} 删除")
            resp.delete()
    _mark(entry, actor, reason or f"删除{spec.label}")
    entry.delete()
    audit(f"catalog.list.{spec.audit}_removed", actor=_user(actor), obj=duty_list, reason=reason,
          detail={"version": duty_list.version, spec.audit: code})


@transaction.atomic
def set_power(duty_list: DutyList, data: dict[str, Any], *, actor: User | None = None, reason: str = ""
              ) -> PowerEntry:
    """Add a power to a draft, or change the power with the same code."""
    return _set_entry("powers", duty_list, data, actor, reason)  # type: ignore[return-value]


@transaction.atomic
def remove_power(duty_list: DutyList, code: str, *, actor: User | None = None, reason: str = "") -> None:
    """Remove a power from a draft, with the responsibilities attached to it."""
    _remove_entry("powers", duty_list, code, actor, reason)


@transaction.atomic
def set_responsibility(duty_list: DutyList, data: dict[str, Any], *, actor: User | None = None,
                       reason: str = "") -> ResponsibilityEntry:
    """Add a responsibility to a draft (its ``power_code`` must be a power of the draft), or change one."""
    return _set_entry("responsibilities", duty_list, data, actor, reason)  # type: ignore[return-value]


@transaction.atomic
def remove_responsibility(duty_list: DutyList, code: str, *, actor: User | None = None, reason: str = "") -> None:
    _remove_entry("responsibilities", duty_list, code, actor, reason)


def _replace(model: type[PowerEntry] | type[ResponsibilityEntry], duty_list: DutyList,
             rows: list[dict[str, Any]], actor: User | None, reason: str) -> None:
    existing = {e.code: e for e in model.objects.filter(duty_list=duty_list)}
    wanted = {row["code"] for row in rows}
    for code, entry in existing.items():
        if code not in wanted:
            _mark(entry, actor, reason)
            entry.delete()
    fresh = []
    for order, row in enumerate(rows):
        entry = existing.get(row["code"])
        if entry is None:
            fresh.append(model(duty_list=duty_list, order=order, **row))
            continue
        if all(getattr(entry, k) == v for k, v in row.items()) and entry.order == order:
            continue
        for key, value in row.items():
            setattr(entry, key, value)
        entry.order = order
        _mark(entry, actor, reason)
        entry.save()
    if fresh:
        bulk_create_with_history(fresh, model, default_user=_user(actor), default_change_reason=reason)


@transaction.atomic
def replace_entries(duty_list: DutyList, *, powers: Iterable[dict[str, Any]] | None = None,
                    responsibilities: Iterable[dict[str, Any]] | None = None, actor: User | None = None,
                    reason: str = "") -> None:
    """Make a draft's powers and/or responsibilities exactly ``powers``/``responsibilities`` (by code).

    Unchanged entries are left alone, so the history shows only real changes.
    """
    ensure_draft(duty_list)
    reason = reason or "批量更新清单"
    for kind, wanted in (("powers", powers), ("responsibilities", responsibilities)):
        if wanted is not None:
            rows = [_check_entry(kind, row) for row in wanted]
            _check_unique(rows, _KINDS[kind].code_label)
            _replace(_KINDS[kind].model, duty_list, rows, actor, reason)
    _check_orphans(duty_list)
    audit("catalog.list.entries_replaced", actor=_user(actor), obj=duty_list, reason=reason,
          detail={"version": duty_list.version, "powers": duty_list.powers.count(),
                  "responsibilities": duty_list.responsibilities.count()})


def _check_orphans(duty_list: DutyList) -> None:
    """Every responsibility must name a power of its version."""
    power_codes = set(duty_list.powers.values_list("code", flat=True))
    orphans = [r.code for r in duty_list.responsibilities.all() if r.power_code not in power_codes]
    if orphans:
        raise CatalogError(f"责任事项 {'、'.join(orphans)} 对应的职权不在该清单中", code="catalog.unknown_power")


def _check_unique(rows: list[dict[str, Any]], label: str) -> None:
    seen: set[str] = set()
    for row in rows:
        if row["code"] in seen:
            raise CatalogError(f"{label} “{row['code']}” 重复", code="catalog.duplicate_code")
        seen.add(row["code"])


@transaction.atomic
def update_draft(duty_list: DutyList, *, effective_date: dt.date | None = None, change_reason: str | None = None,
                 actor: User | None = None) -> DutyList:
    """Set the planned effective date or the change reason of a draft."""
    ensure_draft(duty_list)
    if effective_date is not None:
        duty_list.effective_date = effective_date
    if change_reason is not None:
        duty_list.change_reason = change_reason
    _mark(duty_list, actor, "修改草稿")
    duty_list.save()
    return duty_list


@transaction.atomic
def publish_duty_list(duty_list: DutyList, *, effective_date: dt.date | None = None, actor: User | None = None,
                      reason: str = "") -> DutyList:
    """Publish a draft (发布): it takes effect on ``effective_date`` (default: the draft's date, else today).

    Versions take effect in order: the date may not be before that of the latest published version.
    """
    ensure_draft(duty_list)
    effective_date = effective_date or duty_list.effective_date or timezone.localdate()
    previous = selectors.latest_version(duty_list.organisation, published_only=True)
    if previous is not None and previous.version > duty_list.version:
        raise CatalogError(f"v{previous.version} 已在草稿 v{duty_list.version} 之后发布，请删除该草稿后重新创建",
                           code="catalog.stale_draft")
    if previous is not None and previous.effective_date and effective_date < previous.effective_date:
        raise CatalogError(
            f"生效日期 {effective_date} 早于已发布的 v{previous.version} 的生效日期 {previous.effective_date}",
            code="catalog.effective_date_order",
        )
    _check_orphans(duty_list)
    duty_list.status = DutyList.Status.PUBLISHED
    duty_list.effective_date = effective_date
    duty_list.published_at = timezone.now()
    duty_list.published_by = _user(actor)
    if reason:
        duty_list.change_reason = reason
    _mark(duty_list, actor, reason or duty_list.change_reason or "发布")
    duty_list.save()
    audit("catalog.list.published", actor=_user(actor), obj=duty_list, reason=reason or duty_list.change_reason,
          detail={"organisation": duty_list.organisation.code, "version": duty_list.version,
                  "effective_date": effective_date.isoformat()})
    return duty_list


@transaction.atomic
def delete_draft(duty_list: DutyList, *, actor: User | None = None, reason: str = "") -> None:
    ensure_draft(duty_list)
    audit("catalog.list.draft_deleted", actor=_user(actor), obj=duty_list, reason=reason,
          detail={"organisation": duty_list.organisation.code, "version": duty_list.version})
    _mark(duty_list, actor, reason or "删除草稿")
    for model in (ResponsibilityEntry, PowerEntry):
        for entry in model.objects.filter(duty_list=duty_list):
            _mark(entry, actor, reason or "删除草稿")
            entry.delete()
    duty_list.delete()


@transaction.atomic
def create_version(organisation: Organisation, *, powers: list[dict[str, Any]] | None,
                   responsibilities: list[dict[str, Any]] | None, effective_date: dt.date | None = None,
                   publish: bool = True, actor: User | None = None, reason: str = "") -> DutyList:
    """Draft + replace entries (+ publish): a new version in one step (used by imports).

    ``None`` for ``powers`` or ``responsibilities`` keeps that part of the latest version.
    """
    draft = create_draft(organisation, actor=actor, reason=reason)
    replace_entries(draft, powers=powers, responsibilities=responsibilities, actor=actor,
                    reason=reason or f"导入 v{draft.version}")
    if effective_date is not None:
        draft.effective_date = effective_date
    if publish:
        publish_duty_list(draft, effective_date=effective_date, actor=actor, reason=reason)
    elif effective_date is not None:
        update_draft(draft, effective_date=effective_date, actor=actor)
    return draft
