"""Detection rules (检测规则) over the platform's logs, plug-ins on the one core registry (:data:`RULES`).

A rule reads logs and returns :class:`Finding` s; the scan (``services.scan``) opens one security incident per
finding that is not already being handled. The four built-in rules:

=========================  ===========================================================================  ========
key                        fires when                                                                   log
=========================  ===========================================================================  ========
``exchange.refused_burst`` one caller (an exchange client or a user) had at least                         exchange access log
                           ``TONGBAN_SECURITY_REFUSED_QUERIES`` queries refused within
                           ``TONGBAN_SECURITY_REFUSED_WINDOW_MINUTES``
``staff.personal_reads``   one staff member read the data of at least ``TONGBAN_SECURITY_PERSONAL_READS``  exchange access log
                           distinct persons within ``TONGBAN_SECURITY_PERSONAL_WINDOW_HOURS``
``auth.failed_logins``     at least ``TONGBAN_SECURITY_LOGIN_FAILURES`` failed sign-ins (any accounts)     django-axes failure log
                           within ``TONGBAN_SECURITY_LOGIN_WINDOW_MINUTES``
``exchange.log_tampered``  the access log's Merkle tree or a signed tree head does not verify             exchange access log
=========================  ===========================================================================  ========

Another deployment adds a rule with ``RULES.register(key, rule)`` (an object with ``key``, ``name`` and
``detect(now) -> list[Finding]``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from tongban.core.models import User
from tongban.core.registry import Registry
from tongban.exchange import services as exchange_services
from tongban.exchange.models import AccessLogEntry

from .models import SEVERITY_ORDER, Severity

#: Affected persons kept in an incident's evidence (all of them become AffectedPerson rows).
EVIDENCE_LIMIT = 50


@dataclass
class Finding:
    """What a rule found: enough to open an incident and to tell the persons involved."""

    rule: str
    severity: str
    title: str
    dedup_key: str  # one incident per key while it is handled (and per window)
    subject_label: str = ""
    subject_user_id: int | None = None
    subject_org: str = ""
    window_start: datetime | None = None
    window_end: datetime | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    affected: dict[str, dict[str, Any]] = field(default_factory=dict)  # subject id → what of theirs was involved
    affected_users: dict[str, int] = field(default_factory=dict)  # subject id → user id (when known here)
    notice: str = ""  # the text the persons involved receive


class Rule(Protocol):
    key: str
    name: str

    def detect(self, now: datetime) -> list[Finding]: ...


RULES: Registry[str, Rule] = Registry("安全检测规则")


def _setting(name: str) -> int:
    return int(getattr(settings, name))


def escalate(severity: str, count: int, threshold: int, factor: int = 5) -> str:
    """One level up when the count reaches ``factor`` times the threshold."""
    if count < threshold * factor:
        return severity
    return SEVERITY_ORDER[min(SEVERITY_ORDER.index(Severity(severity)) + 1, len(SEVERITY_ORDER) - 1)]


def _is_person(actor: str) -> bool:
    return bool(actor) and not actor.startswith("client:") and actor != "system"


class RefusedQueryBurst:
    key = "exchange.refused_burst"
    name = "数据查询连续被拒"

    def detect(self, now: datetime) -> list[Finding]:
        threshold = _setting("TONGBAN_SECURITY_REFUSED_QUERIES")
        since = now - timedelta(minutes=_setting("TONGBAN_SECURITY_REFUSED_WINDOW_MINUTES"))
        refused = AccessLogEntry.objects.filter(outcome=AccessLogEntry.Outcome.REFUSED, at__gt=since, at__lte=now)
        callers = (refused.values("actor").annotate(n=Count("id")).filter(n__gte=threshold).order_by("-n"))
        users = dict(User.objects.filter(username__in=[c["actor"] for c in callers if _is_person(c["actor"])])
                     .values_list("username", "pk"))
        findings = []
        for caller in callers:
            actor, count = caller["actor"], caller["n"]
            rows = list(refused.filter(actor=actor).order_by("id")
                        .values("id", "at", "consumer_org", "resource", "subject_id", "error_code"))
            affected: dict[str, dict[str, Any]] = defaultdict(lambda: {"resources": [], "refused": 0})
            for r in rows:
                a = affected[r["subject_id"]]
                a["refused"] += 1
                if r["resource"] not in a["resources"]:
                    a["resources"].append(r["resource"])
            codes: dict[str, int] = defaultdict(int)
            for r in rows:
                codes[r["error_code"] or "-"] += 1
            orgs = sorted({r["consumer_org"] for r in rows})
            findings.append(Finding(
                rule=self.key, severity=escalate(Severity.MEDIUM, count, threshold),
                title=f"{actor} 在 {_setting('TONGBAN_SECURITY_REFUSED_WINDOW_MINUTES')} 分钟内有 {count} 次数据查询被拒绝",
                dedup_key=f"{self.key}:{actor}", subject_label=actor, subject_user_id=users.get(actor),
                subject_org=orgs[0] if len(orgs) == 1 else "", window_start=since, window_end=now,
                evidence={"refused": count, "threshold": threshold, "error_codes": dict(codes),
                          "consumer_orgs": orgs, "persons": len(affected),
                          "entries": [r["id"] for r in rows][:EVIDENCE_LIMIT]},
                affected=dict(affected),
                notice=(f"{_local(since)} 至 {_local(now)}，接入方“{actor}”多次试图查询包括您在内的个人数据，"
                        "均被平台拒绝，未获得您的数据。平台已将其列为安全事件处置。"),
            ))
        return findings


class StaffPersonalReads:
    key = "staff.personal_reads"
    name = "工作人员异常大量读取个人信息"

    def detect(self, now: datetime) -> list[Finding]:
        threshold = _setting("TONGBAN_SECURITY_PERSONAL_READS")
        hours = _setting("TONGBAN_SECURITY_PERSONAL_WINDOW_HOURS")
        since = now - timedelta(hours=hours)
        granted = AccessLogEntry.objects.filter(outcome=AccessLogEntry.Outcome.GRANTED, at__gt=since, at__lte=now)
        readers = (granted.exclude(actor__startswith="client:").exclude(actor__in=["", "system"])
                   .values("actor").annotate(n=Count("subject_id_hash", distinct=True)).filter(n__gte=threshold)
                   .order_by("-n"))
        staff = {u.username: u for u in User.objects.filter(username__in=[r["actor"] for r in readers])
                 if u.is_staff or u.kind == User.Kind.STAFF}
        findings = []
        for reader in readers:
            user = staff.get(reader["actor"])
            if user is None:
                continue  # a citizen fetching their own documents is not staff reading personal data
            rows = list(granted.filter(actor=user.username).order_by("id")
                        .values("id", "consumer_org", "resource", "subject_id", "fields", "masked_fields"))
            affected: dict[str, dict[str, Any]] = defaultdict(lambda: {"resources": [], "reads": 0})
            for r in rows:
                a = affected[r["subject_id"]]
                a["reads"] += 1
                if r["resource"] not in a["resources"]:
                    a["resources"].append(r["resource"])
            count = len(affected)
            orgs = sorted({r["consumer_org"] for r in rows})
            findings.append(Finding(
                rule=self.key, severity=escalate(Severity.HIGH, count, threshold),
                title=f"工作人员 {user.username}（{user}）{hours} 小时内读取了 {count} 人的个人数据",
                dedup_key=f"{self.key}:{user.username}", subject_label=user.username, subject_user_id=user.pk,
                subject_org=orgs[0] if len(orgs) == 1 else "", window_start=since, window_end=now,
                evidence={"persons": count, "reads": len(rows), "threshold": threshold, "consumer_orgs": orgs,
                          "resources": sorted({r["resource"] for r in rows}),
                          "entries": [r["id"] for r in rows][:EVIDENCE_LIMIT]},
                affected=dict(affected),
                notice=(f"{_local(since)} 至 {_local(now)}，一名工作人员读取个人数据的数量异常（{count} 人），"
                        "其中包括您的数据。平台已将其列为安全事件，正在核查该读取是否有合法用途，并将采取相应措施。"),
            ))
        return findings


class FailedLoginSpike:
    key = "auth.failed_logins"
    name = "登录失败激增"

    def detect(self, now: datetime) -> list[Finding]:
        from axes.models import AccessFailureLog

        threshold = _setting("TONGBAN_SECURITY_LOGIN_FAILURES")
        minutes = _setting("TONGBAN_SECURITY_LOGIN_WINDOW_MINUTES")
        since = now - timedelta(minutes=minutes)
        failures = AccessFailureLog.objects.filter(attempt_time__gt=since, attempt_time__lte=now)
        total = failures.count()
        if total < threshold:
            return []
        by_user = dict(failures.values("username").annotate(n=Count("id")).values_list("username", "n"))
        by_ip = dict(failures.values("ip_address").annotate(n=Count("id")).values_list("ip_address", "n"))
        locked = failures.filter(locked_out=True).count()
        accounts = User.objects.filter(username__in=[u for u in by_user if u])
        affected: dict[str, dict[str, Any]] = {}
        users: dict[str, int] = {}
        for account in accounts:
            key = f"user:{account.username}"
            affected[key] = {"username": account.username, "failures": by_user.get(account.username, 0)}
            users[key] = account.pk
        severity = escalate(Severity.MEDIUM, total, threshold)
        if locked and severity == Severity.MEDIUM:
            severity = Severity.HIGH
        top_ips = sorted(by_ip.items(), key=lambda kv: -kv[1])[:10]
        return [Finding(
            rule=self.key, severity=severity,
            title=f"{minutes} 分钟内登录失败 {total} 次（{len(by_user)} 个账户，{len(by_ip)} 个地址）",
            dedup_key=self.key, subject_label="平台登录", window_start=since, window_end=now,
            evidence={"failures": total, "threshold": threshold, "locked_out": locked, "accounts": len(by_user),
                      "addresses": [{"ip": ip or "-", "failures": n} for ip, n in top_ips],
                      "usernames": sorted(u for u in by_user if u)[:EVIDENCE_LIMIT]},
            affected=affected, affected_users=users,
            notice=(f"{_local(since)} 至 {_local(now)}，平台检测到大量登录失败，其中有人试图登录您的账户。"
                    "如非本人操作，请及时修改密码。"),
        )]


class AccessLogTampered:
    key = "exchange.log_tampered"
    name = "查询留痕校验失败"

    def detect(self, now: datetime) -> list[Finding]:
        report = exchange_services.verify_access_log()
        if report.ok:
            return []
        where = (f"seq:{report.first_bad_seq}" if report.first_bad_seq is not None
                 else f"head:{report.first_bad_head}" if report.first_bad_head is not None else "tree")
        affected: dict[str, dict[str, Any]] = {}
        if report.first_bad_seq is not None:
            entry = AccessLogEntry.objects.filter(seq=report.first_bad_seq).first()
            if entry is not None:
                affected[entry.subject_id] = {"resources": [entry.resource], "seq": entry.seq}
        return [Finding(
            rule=self.key, severity=Severity.CRITICAL, title=f"数据查询留痕（默克尔日志）校验失败：{report.problems[0]}",
            dedup_key=f"{self.key}:{where}", subject_label="数据共享交换查询留痕", window_end=now,
            evidence={"problems": report.problems[:20], "problem_count": len(report.problems),
                      "first_bad_seq": report.first_bad_seq, "first_bad_head": report.first_bad_head,
                      "tree_size": report.tree_size},
            affected=affected,
            notice=("平台检测到记录“谁查询了您的数据”的查询留痕被改动，涉及您的一条记录。"
                    "平台已将其列为安全事件，正在调查并恢复记录。"),
        )]


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


for _rule in (RefusedQueryBurst(), StaffPersonalReads(), FailedLoginSpike(), AccessLogTampered()):
    RULES.register(_rule.key, _rule)
