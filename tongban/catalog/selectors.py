"""Catalogue read functions: item search and guides, bundles, and power/responsibility list versions."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from tongban.core.models import Organisation

from . import formats
from .models import (
    Bundle,
    BundleItem,
    DutyList,
    ItemStatus,
    Material,
    PowerEntry,
    ResponsibilityEntry,
    ServiceItem,
    Situation,
)

T = TypeVar("T")
MAX_PAGE_SIZE = 100


@dataclass
class Page(Generic[T]):
    items: list[T]
    count: int
    page: int
    page_size: int
    bundles: list[Bundle] = field(default_factory=list)  # 一件事 matching a ranked query, best first

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.count / self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# What a search result shows (the list page and the API's item summaries); the guide loads the rest.
SUMMARY_FIELDS = (
    "code", "name", "item_type", "node", "handling_kind", "exercise_level", "online_level", "statutory_limit_days",
    "promised_limit_days", "onsite_visits", "status", "version", "competent_department__code",
    "competent_department__name", "competent_department__short_name", "implementing_org__code",
    "implementing_org__name", "implementing_org__short_name",
)


def search_items(q: str = "", *, department: str | None = None, item_type: str | None = None,
                 exercise_level: str | None = None, online_level: str | None = None,
                 status: str | None = ItemStatus.PUBLISHED, page: int = 1, page_size: int = 20
                 ) -> Page[ServiceItem]:
    """One page of the items matching ``q``, filtered.

    A query with Chinese (or any non-code text) over published items is ranked by the catalogue search
    (:mod:`tongban.catalog.search`: segmentation, colloquial phrases, typos), and ``bundles`` holds the matching
    一件事; a query of ASCII words (codes), or one over other statuses, matches every word in name or code,
    ordered by code. ``department`` matches the competent department or the implementing organisation (by code);
    ``status=None`` searches all statuses. ``count`` is the total number of matches.
    """
    qs = ServiceItem.objects.all()
    if status:
        qs = qs.filter(status=status)
    if q.strip() and not q.isascii() and status == ItemStatus.PUBLISHED:
        return _ranked_search(q, qs, department=department, item_type=item_type, exercise_level=exercise_level,
                              online_level=online_level, page=page, page_size=page_size)
    for term in q.split():
        condition = Q(name__icontains=term)
        if term.isascii():  # codes are ASCII: a Chinese word can only match the name
            condition |= Q(code__icontains=term)
        qs = qs.filter(condition)
    if department:
        qs = qs.filter(Q(competent_department__code=department) | Q(implementing_org__code=department))
    if item_type:
        qs = qs.filter(item_type=item_type)
    if exercise_level:
        qs = qs.filter(exercise_level=exercise_level)
    if online_level:
        qs = qs.filter(online_level=online_level)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    count = qs.count()
    offset = (page - 1) * page_size
    items = list(qs.select_related("competent_department", "implementing_org").only(*SUMMARY_FIELDS)
                 [offset:offset + page_size]) if offset < count else []
    return Page(items=items, count=count, page=page, page_size=page_size)


def _ranked_search(q: str, qs: QuerySet[ServiceItem], *, department: str | None, item_type: str | None,
                   exercise_level: str | None, online_level: str | None, page: int, page_size: int
                   ) -> Page[ServiceItem]:
    """The ranked path of :func:`search_items`: rank in memory, filter by the database (one query for the allowed
    ids, one for the page), keep the rank order."""
    from . import search

    hits = search.rank(q)
    item_ids = [h.pk for h in hits if h.kind == "item"]
    if department:
        qs = qs.filter(Q(competent_department__code=department) | Q(implementing_org__code=department))
    if item_type:
        qs = qs.filter(item_type=item_type)
    if exercise_level:
        qs = qs.filter(exercise_level=exercise_level)
    if online_level:
        qs = qs.filter(online_level=online_level)
    allowed = set(qs.filter(pk__in=item_ids).values_list("pk", flat=True)) if item_ids else set()
    ordered = [pk for pk in item_ids if pk in allowed]
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    wanted = ordered[(page - 1) * page_size:page * page_size]
    rows = {i.pk: i for i in ServiceItem.objects.filter(pk__in=wanted).select_related(
        "competent_department", "implementing_org").only(*SUMMARY_FIELDS)} if wanted else {}
    bundles: list[Bundle] = []  # from the index (no query): code, name and description are all a result shows
    if page == 1 and not (department or item_type or exercise_level or online_level):
        bundles = [Bundle(pk=h.pk, code=h.code, name=h.display[0], description=h.display[1])
                   for h in hits if h.kind == "bundle"]
    return Page(items=[rows[pk] for pk in wanted if pk in rows], count=len(ordered), page=page,
                page_size=page_size, bundles=bundles)


def item_departments() -> list[Organisation]:
    """Organisations that are the competent department of at least one published item (search filter)."""
    return list(Organisation.objects.filter(competent_items__status=ItemStatus.PUBLISHED).distinct()
                .order_by("code"))


@dataclass
class SituationGuide:
    situation: Situation
    materials: list[Material]
    conditions: list[dict[str, str]] = field(default_factory=list)  # [{question, answer}] in words


def worded_conditions(item: ServiceItem, situation: Situation) -> list[dict[str, str]]:
    """A situation's conditions as the catalogue's guide words them: 孩子是在哪里出生的？ 在医院等医疗机构出生."""
    guide = item.guide or {}
    out = []
    for key, value in (situation.conditions or {}).items():
        entry = guide.get(key) or {}
        answers = entry.get("answers") or {}
        values = value if isinstance(value, list) else [value]
        out.append({"question": entry.get("question") or "情形",
                    "answer": "或".join(answers.get(str(v)) or str(v) for v in values)})
    return out


@dataclass
class ItemGuide:
    """Everything the guide (办事指南) of an item shows."""

    item: ServiceItem
    materials: list[Material]
    situations: list[SituationGuide]
    children: list[ServiceItem]
    bundles: list[Bundle]
    excluded_steps: list[str] = field(default_factory=list)


def get_item(code: str, *, published_only: bool = True) -> ServiceItem | None:
    qs = ServiceItem.objects.filter(code=code)
    if published_only:
        qs = qs.filter(status=ItemStatus.PUBLISHED)
    return qs.select_related("competent_department", "implementing_org", "parent").first()


def item_guide(code: str, *, published_only: bool = True) -> ItemGuide | None:
    """The guide of item ``code`` (only published items unless ``published_only`` is false)."""
    item = get_item(code, published_only=published_only)
    if item is None:
        return None
    materials = list(item.materials.select_related("issuing_department"))
    by_pk = {m.pk: m for m in materials}
    situations = [
        SituationGuide(situation=s, materials=[by_pk[m.pk] for m in s.materials.all() if m.pk in by_pk])
        for s in item.situations.prefetch_related("materials")
    ]
    for guide in situations:
        guide.materials.sort(key=lambda m: (m.order, m.pk))
        guide.conditions = worded_conditions(item, guide.situation)
    children = list(item.children.filter(status=ItemStatus.PUBLISHED).order_by("code"))
    bundles = list(item.bundles.filter(status=ItemStatus.PUBLISHED).order_by("code"))
    return ItemGuide(item=item, materials=materials, situations=situations, children=children, bundles=bundles,
                     excluded_steps=item.excluded_steps)


def item_history(item: ServiceItem) -> QuerySet[Any]:
    """The change record of an item, newest first: who (history_user), when (history_date), why."""
    return item.history.select_related("history_user").order_by("-history_date", "-history_id")


def list_bundles(*, status: str | None = ItemStatus.PUBLISHED) -> list[Bundle]:
    qs = Bundle.objects.all()
    if status:
        qs = qs.filter(status=status)
    links = BundleItem.objects.select_related("item", "item__competent_department").order_by("order")
    return list(qs.select_related("lead_department").prefetch_related(Prefetch("bundle_items", queryset=links)))


def get_bundle(code: str, *, published_only: bool = True) -> Bundle | None:
    qs = Bundle.objects.filter(code=code)
    if published_only:
        qs = qs.filter(status=ItemStatus.PUBLISHED)
    links = BundleItem.objects.select_related("item", "item__competent_department",
                                              "item__implementing_org").order_by("order")
    return qs.select_related("lead_department").prefetch_related(Prefetch("bundle_items", queryset=links)).first()


# --- power and responsibility lists --------------------------------------------------------------


def get_organisation(code: str) -> Organisation | None:
    return Organisation.objects.filter(code=code).first()


def _published(org: Organisation) -> QuerySet[DutyList]:
    return DutyList.objects.filter(organisation=org, status=DutyList.Status.PUBLISHED)


def _versions(org: Organisation, published_only: bool) -> QuerySet[DutyList]:
    return _published(org) if published_only else DutyList.objects.filter(organisation=org)


def latest_version(org: Organisation, *, published_only: bool = False) -> DutyList | None:
    """The organisation's newest list version (a draft too, unless ``published_only``)."""
    return _versions(org, published_only).order_by("-version").first()


def current_duty_list(org: Organisation, on: dt.date | None = None) -> DutyList | None:
    """The version in force on ``on`` (default today): the latest published one with effective_date <= on."""
    on = on or timezone.localdate()
    return (_published(org).filter(effective_date__lte=on).select_related("organisation")
            .order_by("-effective_date", "-version").first())


def duty_list_versions(org: Organisation, *, published_only: bool = True) -> list[DutyList]:
    """Versions of an organisation's list, newest first, with entry counts."""
    return list(_versions(org, published_only).select_related("organisation", "published_by")
                .annotate(power_count=Count("powers", distinct=True),
                          responsibility_count=Count("responsibilities", distinct=True))
                .order_by("-version"))


def get_duty_list_version(org: Organisation, version: int, *, published_only: bool = True) -> DutyList | None:
    return _versions(org, published_only).filter(version=version).select_related("organisation").first()


def previous_published(duty_list: DutyList) -> DutyList | None:
    return _published(duty_list.organisation).filter(version__lt=duty_list.version).order_by("-version").first()


@dataclass
class ListSummary:
    organisation: Organisation
    current: DutyList
    power_count: int
    responsibility_count: int


def organisations_with_lists(on: dt.date | None = None) -> list[ListSummary]:
    """Organisations that have a published list in force on ``on`` (default today), by code."""
    on = on or timezone.localdate()
    result = []
    orgs = Organisation.objects.filter(duty_lists__status=DutyList.Status.PUBLISHED,
                                       duty_lists__effective_date__lte=on).distinct().order_by("code")
    for org in orgs:
        current = current_duty_list(org, on)
        if current is None:
            continue
        result.append(ListSummary(organisation=org, current=current, power_count=current.powers.count(),
                                  responsibility_count=current.responsibilities.count()))
    return result


def powers_of(duty_list: DutyList) -> list[PowerEntry]:
    return list(duty_list.powers.all())


def responsibilities_of(duty_list: DutyList) -> list[ResponsibilityEntry]:
    return list(duty_list.responsibilities.all())


def duty_list_history(duty_list: DutyList) -> list[dict[str, Any]]:
    """Every recorded change of a version and its entries, oldest first: when, who, what, why."""
    rows: list[dict[str, Any]] = []
    sources = [
        ("清单", duty_list.history.all(), lambda h: f"v{h.version} {h.get_status_display()}"),
        ("权力事项", PowerEntry.history.filter(duty_list_id=duty_list.pk), lambda h: f"{h.code} {h.name}"),
        ("责任事项", ResponsibilityEntry.history.filter(duty_list_id=duty_list.pk),
         lambda h: f"{h.code}（{h.power_code}）"),
    ]
    for kind, qs, label in sources:
        for h in qs.select_related("history_user"):
            rows.append({"at": h.history_date, "user": h.history_user, "kind": kind,
                         "change": h.get_history_type_display(), "object": label(h),
                         "reason": h.history_change_reason or ""})
    rows.sort(key=lambda r: r["at"])
    return rows


# --- diff between two versions ---------------------------------------------------------------------

POWER_LABELS = {f.name: str(f.verbose_name) for f in PowerEntry._meta.get_fields() if hasattr(f, "verbose_name")}
RESPONSIBILITY_LABELS = {
    f.name: str(f.verbose_name) for f in ResponsibilityEntry._meta.get_fields() if hasattr(f, "verbose_name")
}


@dataclass
class FieldChange:
    field: str
    label: str
    old: Any
    new: Any


@dataclass
class EntryChange:
    code: str
    title: str
    changes: list[FieldChange]


@dataclass
class KindDiff:
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[EntryChange]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass
class ListDiff:
    organisation: Organisation
    old: DutyList
    new: DutyList
    powers: KindDiff
    responsibilities: KindDiff

    @property
    def empty(self) -> bool:
        return self.powers.empty and self.responsibilities.empty


def _diff_rows(old: list[dict[str, Any]], new: list[dict[str, Any]], fields: tuple[str, ...],
               labels: dict[str, str], title_field: str) -> KindDiff:
    old_by = {r["code"]: r for r in old}
    new_by = {r["code"]: r for r in new}
    changed = []
    for code, row in new_by.items():
        before = old_by.get(code)
        if before is None:
            continue
        changes = [FieldChange(f, labels.get(f, f), before[f], row[f]) for f in fields if before[f] != row[f]]
        if changes:
            changed.append(EntryChange(code=code, title=str(row[title_field]), changes=changes))
    return KindDiff(added=[r for c, r in new_by.items() if c not in old_by],
                    removed=[r for c, r in old_by.items() if c not in new_by], changed=changed)


def diff_duty_lists(old: DutyList, new: DutyList) -> ListDiff:
    """What changed from version ``old`` to version ``new``: entries added, removed, and changed field by field.

    Entries are matched by their code.
    """
    return ListDiff(
        organisation=new.organisation, old=old, new=new,
        powers=_diff_rows([formats.power_to_dict(p) for p in old.powers.all()],
                          [formats.power_to_dict(p) for p in new.powers.all()],
                          formats.POWER_FIELDS, POWER_LABELS, "name"),
        responsibilities=_diff_rows([formats.responsibility_to_dict(r) for r in old.responsibilities.all()],
                                    [formats.responsibility_to_dict(r) for r in new.responsibilities.all()],
                                    formats.RESPONSIBILITY_FIELDS, RESPONSIBILITY_LABELS, "responsibilities"),
    )


def diff_to_dict(diff: ListDiff) -> dict[str, Any]:
    """A diff as plain data (for the JSON API)."""

    def kind(d: KindDiff) -> dict[str, Any]:
        return {
            "added": d.added,
            "removed": d.removed,
            "changed": [{"code": c.code, "title": c.title,
                         "changes": [{"field": f.field, "label": f.label, "from": f.old, "to": f.new}
                                     for f in c.changes]} for c in d.changed],
        }

    return {"organisation": diff.organisation.code, "from_version": diff.old.version,
            "to_version": diff.new.version, "powers": kind(diff.powers),
            "responsibilities": kind(diff.responsibilities)}


# --- export ----------------------------------------------------------------------------------------


def export_items() -> list[dict[str, Any]]:
    """All items in file form, parents before their children."""
    items = list(ServiceItem.objects.select_related("competent_department", "implementing_org", "parent")
                 .prefetch_related("materials__issuing_department", "situations__materials").order_by("code"))
    by_code = {i.code: i for i in items}
    done: set[str] = set()
    ordered: list[ServiceItem] = []

    def visit(item: ServiceItem) -> None:
        if item.code in done:
            return
        done.add(item.code)
        if item.parent_id and item.parent.code in by_code:
            visit(by_code[item.parent.code])
        ordered.append(item)

    for item in items:
        visit(item)
    return [formats.item_to_dict(i) for i in ordered]


def export_bundles() -> list[dict[str, Any]]:
    bundles = Bundle.objects.select_related("lead_department").prefetch_related(
        Prefetch("bundle_items", queryset=BundleItem.objects.select_related("item").order_by("order")))
    return [formats.bundle_to_dict(b) for b in bundles.order_by("code")]


def export_duty_lists(org: Organisation | None = None) -> list[dict[str, Any]]:
    """Every version (oldest first per organisation) in file form."""
    qs = DutyList.objects.select_related("organisation").prefetch_related("powers", "responsibilities")
    if org is not None:
        qs = qs.filter(organisation=org)
    return [formats.duty_list_to_dict(d) for d in qs.order_by("organisation__code", "version")]


def export_catalog() -> dict[str, Any]:
    """The whole catalogue as a ``tongban-catalog/1`` document (loading it back changes nothing)."""
    return {"format": formats.FORMAT, "items": export_items(), "bundles": export_bundles(),
            "duty_lists": export_duty_lists()}


# --- Delegated service (下沉) -----------------------------------------------------------------------------------

LOCAL_LEVELS = ("township", "village")  # Division.Level values of township and community (村/社区) centres


def reviewing_organisation(item: ServiceItem) -> Organisation:
    """Whose approvers review and decide ``item``: the organisation it names (``reviewing_org``), else its implementing
    organisation (实施主体) — for a delegated item the township or community centre, not the city department."""
    return item.reviewing_org if item.reviewing_org_id else item.implementing_org


def delegated_place(item: ServiceItem) -> Organisation | None:
    """The township or community centre a delegated (下沉) item is handled at, or None for a city/county item."""
    org = item.implementing_org
    if org.pk != item.competent_department_id and org.division.level in LOCAL_LEVELS:
        return org
    return None
