"""Helpers of the security tests: log entries and failed sign-ins."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

ZHANG = "910102199001011234"
LI = "91010219880315432X"


def log(n: int, *, actor: str, outcome: str = "refused", subjects: list[str] | None = None,
        consumer_org: str = "yx-rsj", resource: str = "household_register", minutes_ago: int = 1) -> None:
    """Append ``n`` access-log entries (through the exchange's own append, so the log stays verifiable)."""
    from tongban.exchange import accesslog
    from tongban.exchange.accesslog import compute_leaf_hash
    from tongban.exchange.models import AccessLogEntry

    subjects = subjects or [ZHANG]
    first = AccessLogEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for i in range(n):
        accesslog.append(actor=actor, consumer_org=consumer_org, source="shared", resource=resource,
                         subject_id=subjects[i % len(subjects)], purpose="test", fields=["name"],
                         outcome=outcome, error_code="exchange.no_grant" if outcome == "refused" else "")
    at = timezone.now() - timedelta(minutes=minutes_ago)
    for entry in AccessLogEntry.objects.filter(id__gt=first):
        entry.at = at
        entry.leaf_hash = compute_leaf_hash(entry)
        entry.save(update_fields=["at", "leaf_hash"])


def failed_logins(n: int, *, usernames: list[str], ip: str = "203.0.113.9", locked: bool = False) -> None:
    """``n`` rows of django-axes' failure log (what a failed sign-in writes)."""
    from axes.models import AccessFailureLog

    AccessFailureLog.objects.bulk_create([
        AccessFailureLog(username=usernames[i % len(usernames)], ip_address=ip, user_agent="test", http_accept="*/*",
                         path_info="/accounts/login/", locked_out=locked) for i in range(n)])
