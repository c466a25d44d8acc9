"""Read functions of the data exchange."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet

from tongban.core import pii
from tongban.core.models import Organisation, Role, User
from tongban.core.selectors import has_role, organisations_for_role

from .models import AccessLogEntry, Consent, DataResource, Grant, SignedTreeHead

STAFF_ROLES = (Role.APPROVER, Role.WINDOW_CLERK, Role.ADMINISTRATOR, Role.SUPERVISOR, Role.DATA_OWNER)


def resources(q: str = "", *, include_inactive: bool = False) -> QuerySet[DataResource]:
    qs = DataResource.objects.select_related("owner")
    if not include_inactive:
        qs = qs.filter(active=True)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(owner__name__icontains=q))
    return qs.order_by("owner__code", "code")


def resource(code: str) -> DataResource | None:
    return DataResource.objects.select_related("owner").filter(code=code).first()


def staff_org_ids(user: User) -> set[int]:
    ids: set[int] = set()
    for role in STAFF_ROLES:
        ids |= set(organisations_for_role(user, role).values_list("pk", flat=True))
    if user.is_authenticated and user.organisation_id and user.is_staff:
        ids.add(user.organisation_id)
    return ids


def may_act_for_subject(user: User | None, subject_id: str) -> bool:
    """Who records or withdraws a consent in the name of ``subject_id`` (docs/exchange.md): the subject themself
    (their account's id number), a window clerk recording a consent or a withdrawal given on paper, the
    administrator. No other staff member, whatever their department, acts in a citizen's name. ``None`` is the
    platform itself (a service on the subject's behalf)."""
    if user is None:
        return True
    if not user.is_authenticated:
        return False
    if user.id_number and user.id_number == subject_id:
        return True
    return user.is_staff and (has_role(user, Role.WINDOW_CLERK) or has_role(user, Role.ADMINISTRATOR))


def owner_org_ids(user: User) -> set[int]:
    return set(organisations_for_role(user, Role.DATA_OWNER).values_list("pk", flat=True))


def grants_visible_to(user: User) -> QuerySet[Grant]:
    """Grants of the user's departments (as consumer) and of the resources they own (as data owner)."""
    qs = Grant.objects.select_related("resource", "resource__owner", "consumer", "requested_by", "decided_by")
    if user.is_superuser:
        return qs
    return qs.filter(Q(consumer_id__in=staff_org_ids(user)) | Q(resource__owner_id__in=owner_org_ids(user)))


def grants_to_decide(user: User) -> QuerySet[Grant]:
    qs = grants_visible_to(user).filter(status=Grant.Status.REQUESTED)
    if user.is_superuser:
        return qs
    return qs.filter(resource__owner_id__in=owner_org_ids(user))


def requestable_orgs(user: User) -> QuerySet[Organisation]:
    if user.is_superuser:
        return Organisation.objects.all()
    return Organisation.objects.filter(pk__in=staff_org_ids(user))


def access_log_for_subject(subject_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """Who read (or tried to read) the subject's data: newest first, with names for people."""
    if not subject_id:
        return []
    entries = list(AccessLogEntry.objects.filter(pii.matching("subject_id", subject_id)).order_by("-id")[:limit])
    orgs = dict(Organisation.objects.filter(code__in={e.consumer_org for e in entries}).values_list("code", "name"))
    names = dict(DataResource.objects.filter(code__in={e.resource for e in entries}).values_list("code", "name"))
    titles: dict[str, dict[str, str]] = {}
    for res in DataResource.objects.filter(code__in={e.resource for e in entries}):
        titles[res.code] = {f["name"]: f["title"] for f in res.field_rows()}
    rows = []
    for e in entries:
        field_titles = titles.get(e.resource, {})
        rows.append({
            "id": e.pk, "seq": e.seq, "at": e.at, "consumer_org": e.consumer_org,
            "consumer_name": orgs.get(e.consumer_org, e.consumer_org),
            "resource": e.resource, "resource_name": names.get(e.resource, e.resource),
            "source": e.source, "case_ref": e.case_ref, "purpose": e.purpose, "outcome": e.outcome,
            "outcome_label": AccessLogEntry.Outcome(e.outcome).label, "error_code": e.error_code,
            "fields": [field_titles.get(f, f) for f in e.fields],
            "masked_fields": [field_titles.get(f, f) for f in e.masked_fields],
        })
    return rows


def consent(ref: str) -> Consent | None:
    """The consent with reference ``ref``; None when there is none or ``ref`` is not even a UUID."""
    try:
        value = uuid.UUID(str(ref))
    except ValueError:
        return None
    return Consent.objects.select_related("consumer").filter(ref=value).first()


def consents_for_subject(subject_id: str) -> QuerySet[Consent]:
    return (Consent.objects.filter(pii.matching("subject_id", subject_id)).select_related("consumer")
            .order_by("-given_at"))


def latest_signed_head() -> SignedTreeHead | None:
    return SignedTreeHead.objects.order_by("-tree_size", "-timestamp", "-id").first()
