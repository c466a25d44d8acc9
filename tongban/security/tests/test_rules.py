"""Each detection rule fires at its threshold, not below it, and a finding being handled opens no second incident."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tongban.core import pii
from tongban.core.models import User
from tongban.exchange import accesslog
from tongban.exchange.models import AccessLogEntry
from tongban.security import services
from tongban.security.models import AffectedPerson, SecurityIncident, Severity
from tongban.security.rules import RULES, escalate

from .factories import LI, ZHANG, failed_logins, log

pytestmark = pytest.mark.django_db


def _scan(rule: str):
    return services.scan(rules=[rule])


# --- refused exchange queries of one caller ----------------------------------------------------------------


def test_refused_burst_below_the_threshold_opens_nothing(demo_core, settings):
    settings.TONGBAN_SECURITY_REFUSED_QUERIES = 5
    log(4, actor="client:社保业务系统")
    log(4, actor="client:另一个系统")  # two callers under the threshold each: not one burst of eight
    result = _scan("exchange.refused_burst")
    assert result.findings == [] and result.opened == []
    assert not SecurityIncident.objects.exists()


def test_refused_burst_of_one_client_opens_an_incident_with_the_persons_involved(demo_core, settings):
    settings.TONGBAN_SECURITY_REFUSED_QUERIES = 5
    log(5, actor="client:社保业务系统", subjects=[ZHANG, LI, "910102200001010000"])
    log(3, actor="client:社保业务系统", outcome="granted")  # granted queries are not refusals
    [incident] = _scan("exchange.refused_burst").opened
    assert incident.rule == "exchange.refused_burst" and incident.severity == Severity.MEDIUM
    assert incident.subject_label == "client:社保业务系统" and incident.subject_org == "yx-rsj"
    assert incident.evidence["refused"] == 5 and incident.status == SecurityIncident.Status.TRIAGE
    persons = {p.subject_id: p for p in AffectedPerson.objects.filter(incident=incident)}
    assert set(persons) == {ZHANG, LI, "910102200001010000"}
    assert persons[ZHANG].user == User.objects.get(username="zhangsan")
    assert persons["910102200001010000"].user is None  # no account: recorded, nobody to notify on the platform
    assert incident.process_instance_id  # the response process started


def test_refusals_outside_the_window_do_not_count(demo_core, settings):
    settings.TONGBAN_SECURITY_REFUSED_QUERIES = 5
    settings.TONGBAN_SECURITY_REFUSED_WINDOW_MINUTES = 10
    log(5, actor="client:社保业务系统", minutes_ago=30)
    assert _scan("exchange.refused_burst").findings == []


def test_a_burst_being_handled_opens_no_second_incident(demo_core, settings):
    settings.TONGBAN_SECURITY_REFUSED_QUERIES = 5
    log(5, actor="client:社保业务系统")
    assert len(_scan("exchange.refused_burst").opened) == 1
    log(5, actor="client:社保业务系统")
    again = _scan("exchange.refused_burst")
    assert len(again.findings) == 1 and again.opened == [] and len(again.skipped) == 1
    assert SecurityIncident.objects.count() == 1


def test_a_much_larger_burst_is_more_severe(demo_core, settings):
    settings.TONGBAN_SECURITY_REFUSED_QUERIES = 2
    log(10, actor="client:社保业务系统")
    [incident] = _scan("exchange.refused_burst").opened
    assert incident.severity == Severity.HIGH
    assert escalate(Severity.CRITICAL, 100, 1) == Severity.CRITICAL


# --- one staff member reading unusual amounts of personal data ---------------------------------------------


def _subjects(n: int) -> list[str]:
    return [f"9101021990{i:08d}" for i in range(n)]


def test_staff_reading_few_persons_opens_nothing(demo_core, settings):
    settings.TONGBAN_SECURITY_PERSONAL_READS = 5
    log(12, actor="approver-rsj", outcome="granted", subjects=_subjects(4))  # many reads, but of 4 persons
    assert _scan("staff.personal_reads").findings == []


def test_staff_reading_many_persons_opens_an_incident_on_that_account(demo_core, settings):
    settings.TONGBAN_SECURITY_PERSONAL_READS = 5
    log(5, actor="approver-rsj", outcome="granted", subjects=[ZHANG, *_subjects(4)])
    [incident] = _scan("staff.personal_reads").opened
    assert incident.severity == Severity.HIGH
    assert incident.subject_user == User.objects.get(username="approver-rsj")
    assert incident.evidence["persons"] == 5
    assert AffectedPerson.objects.filter(pii.matching("subject_id", ZHANG), incident=incident,
                                        user__username="zhangsan").exists()


def test_refused_reads_systems_and_citizens_are_not_staff_reading_personal_data(demo_core, settings):
    settings.TONGBAN_SECURITY_PERSONAL_READS = 3
    log(3, actor="approver-rsj", outcome="refused", subjects=_subjects(3))
    log(3, actor="client:社保业务系统", outcome="granted", subjects=_subjects(3))
    log(3, actor="zhangsan", outcome="granted", subjects=_subjects(3))
    assert _scan("staff.personal_reads").findings == []


def test_reads_before_the_window_do_not_count(demo_core, settings):
    settings.TONGBAN_SECURITY_PERSONAL_READS = 3
    settings.TONGBAN_SECURITY_PERSONAL_WINDOW_HOURS = 1
    log(3, actor="approver-rsj", outcome="granted", subjects=_subjects(3), minutes_ago=90)
    assert _scan("staff.personal_reads").findings == []


# --- failed-login spike -------------------------------------------------------------------------------------


def test_failed_logins_below_the_threshold_open_nothing(demo_core, settings):
    settings.TONGBAN_SECURITY_LOGIN_FAILURES = 10
    failed_logins(9, usernames=["zhangsan", "lisi", "nobody"])
    assert _scan("auth.failed_logins").findings == []


def test_failed_login_spike_opens_an_incident_naming_the_accounts(demo_core, settings):
    settings.TONGBAN_SECURITY_LOGIN_FAILURES = 10
    failed_logins(10, usernames=["zhangsan", "lisi", "nobody"])
    [incident] = _scan("auth.failed_logins").opened
    assert incident.severity == Severity.MEDIUM and incident.evidence["failures"] == 10
    persons = {p.subject_id: p.user.username for p in AffectedPerson.objects.filter(incident=incident)}
    assert persons == {"user:zhangsan": "zhangsan", "user:lisi": "lisi"}  # "nobody" has no account


def test_a_spike_with_lockouts_is_high(demo_core, settings):
    settings.TONGBAN_SECURITY_LOGIN_FAILURES = 3
    failed_logins(3, usernames=["zhangsan"], locked=True)
    [incident] = _scan("auth.failed_logins").opened
    assert incident.severity == Severity.HIGH


def test_failed_logins_before_the_window_do_not_count(demo_core, settings):
    settings.TONGBAN_SECURITY_LOGIN_FAILURES = 3
    settings.TONGBAN_SECURITY_LOGIN_WINDOW_MINUTES = 15
    failed_logins(3, usernames=["zhangsan"])
    later = timezone.now() + timedelta(minutes=20)
    assert RULES.get("auth.failed_logins").detect(later) == []


def test_real_failed_sign_ins_are_counted(demo_core, settings):
    """The form's failed sign-ins reach the rule through django-axes' failure log."""
    settings.TONGBAN_SECURITY_LOGIN_FAILURES = 3
    client = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(3):
        client.post("/accounts/login/", {"username": "zhangsan", "password": "wrong"})
    [incident] = _scan("auth.failed_logins").opened
    assert incident.evidence["failures"] == 3
    assert incident.evidence["addresses"] == [{"ip": "198.51.100.7", "failures": 3}]


# --- access-log verification failure -----------------------------------------------------------------------


def test_a_verifying_access_log_opens_nothing(demo_core):
    log(3, actor="approver-rsj", outcome="granted")
    accesslog.sync_tree()
    accesslog.sign_tree_head()
    assert _scan("exchange.log_tampered").findings == []


def test_an_altered_access_log_entry_opens_a_critical_incident(demo_core):
    log(3, actor="approver-rsj", outcome="granted", subjects=[LI, ZHANG, LI])
    accesslog.sync_tree()
    accesslog.sign_tree_head()
    AccessLogEntry.objects.filter(seq=1).update(purpose="rewritten")
    [incident] = _scan("exchange.log_tampered").opened
    assert incident.severity == Severity.CRITICAL and incident.evidence["first_bad_seq"] == 1
    assert list(AffectedPerson.objects.filter(incident=incident).values_list("subject_id", flat=True)) == [ZHANG]
    assert _scan("exchange.log_tampered").opened == []  # the same break opens one incident


def test_a_failing_rule_is_recorded_and_the_others_still_run(demo_core, settings):
    class Broken:
        key, name = "test.broken", "坏规则"

        def detect(self, now):
            raise RuntimeError("boom")

    settings.TONGBAN_SECURITY_REFUSED_QUERIES = 2
    log(2, actor="client:x")
    with RULES.isolated():
        RULES.register("test.broken", Broken())
        result = services.scan(rules=["test.broken", "exchange.refused_burst"])
    assert result.errors == ["test.broken: RuntimeError: boom"] and len(result.opened) == 1
    assert result.run.errors == result.errors and result.run.opened == 1


def test_an_incident_that_cannot_be_opened_leaves_nothing_and_is_tried_again(demo_core, settings, monkeypatch):
    from tongban.security import process

    settings.TONGBAN_SECURITY_REFUSED_QUERIES = 2
    log(2, actor="client:x")

    def broken_deploy():
        raise RuntimeError("engine down")

    monkeypatch.setattr(process, "deploy", broken_deploy)
    result = _scan("exchange.refused_burst")
    assert result.opened == [] and result.errors == ["exchange.refused_burst: exchange.refused_burst:client:x: "
                                                     "RuntimeError: engine down"]
    assert not SecurityIncident.objects.exists() and not AffectedPerson.objects.exists()
    monkeypatch.undo()
    assert len(_scan("exchange.refused_burst").opened) == 1
