"""Core read functions: organisations and the roles users hold in them."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from .models import Organisation, RoleAssignment, User


def organisation_descendant_ids(org: Organisation) -> set[int]:
    """Ids of ``org`` and every organisation below it."""
    ids = {org.pk}
    frontier = [org.pk]
    while frontier:
        frontier = list(Organisation.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        frontier = [pk for pk in frontier if pk not in ids]
        ids.update(frontier)
    return ids


def organisations_for_role(user: User, role_code: str) -> QuerySet[Organisation]:
    """Organisations in which ``user`` currently holds ``role_code`` (including sub-organisations where granted)."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    today = timezone.localdate()
    ids: set[int] = set()
    assignments = RoleAssignment.objects.filter(user=user, role__code=role_code).select_related("organisation")
    for a in assignments:
        if (a.valid_from and a.valid_from > today) or (a.valid_until and a.valid_until < today):
            continue
        ids |= organisation_descendant_ids(a.organisation) if a.include_children else {a.organisation_id}
    return Organisation.objects.filter(pk__in=ids)


def has_role(user: User, role_code: str, organisation: Organisation | None = None) -> bool:
    """Whether ``user`` holds ``role_code`` (in ``organisation`` when given). Superusers hold every role."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    orgs = organisations_for_role(user, role_code)
    if organisation is None:
        return orgs.exists()
    return orgs.filter(pk=organisation.pk).exists()
