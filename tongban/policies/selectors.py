"""免申即享 reads: a person's notices, the officer's overview with match counts, the attributes on offer."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from tongban.core import pii
from tongban.core.models import User

from . import attributes, rules
from .models import MatchRun, Policy, PolicyMatch


def my_matches(user: User) -> QuerySet[PolicyMatch]:
    if not user.id_number:
        return PolicyMatch.objects.none()
    return PolicyMatch.objects.filter(subject_hash=pii.lookup_hash(user.id_number)).select_related("policy")


def get_policy(code: str) -> Policy | None:
    return Policy.objects.filter(code=code).first()


def overview() -> list[dict[str, Any]]:
    """Every policy with its match counts by status and its data in plain Chinese (the officer's page)."""
    counted = Policy.objects.annotate(
        matched=Count("matches"),
        confirmed=Count("matches", filter=Q(matches__status=PolicyMatch.Status.CONFIRMED)),
        opted_out=Count("matches", filter=Q(matches__status=PolicyMatch.Status.OPTED_OUT)),
        waiting=Count("matches", filter=Q(matches__status=PolicyMatch.Status.NOTIFIED)))
    out = []
    for p in counted:
        out.append({"policy": p, "conditions": rules.describe(p.rule, attributes.titles_for(p.rule)),
                    "data": [{"attr": a, "title": attributes.title_of(a), "source": attributes.source_of(a),
                              "shared": attributes.is_shared(a)} for a in rules.attributes_of(p.rule)],
                    "matched": p.matched, "confirmed": p.confirmed, "opted_out": p.opted_out,
                    "waiting": p.waiting})
    return out


def recent_runs(limit: int = 10) -> list[MatchRun]:
    return list(MatchRun.objects.all()[:limit])
