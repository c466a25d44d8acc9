"""Engine helpers with caches: they must answer exactly what the uncached code answers."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from tongban.core.models import Organisation
from tongban.workflow import lookups, times


def test_local_date_follows_the_local_midnight():
    start = datetime(2026, 9, 30, 15, 0, tzinfo=UTC)  # 23:00 in Beijing
    for minutes in range(0, 26 * 60, 7):
        now = start + timedelta(minutes=minutes)
        assert times.local_date(now) == timezone.localdate(now), now


def test_local_date_in_another_active_time_zone():
    now = datetime(2026, 9, 30, 20, 0, tzinfo=UTC)  # 1 October in Beijing, 30 September in New York
    assert times.local_date(now).day == 1
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        assert times.local_date(now).day == 30
    assert times.local_date(now).day == 1


def test_division_of_is_cached_until_an_organisation_changes(users, django_assert_num_queries):
    org = Organisation.objects.exclude(division=None).first()
    with django_assert_num_queries(1):
        assert lookups.division_of(org.pk) == org.division_id
        assert lookups.division_of(org.pk) == org.division_id
    other = Organisation.objects.exclude(division=org.division).exclude(division=None).first()
    org.division = other.division
    org.save()  # the post_save signal drops the cache
    assert lookups.division_of(org.pk) == other.division_id
    assert lookups.division_of(None) is None
