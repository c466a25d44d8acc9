"""One click: a notice becomes a prefilled application that the item's decision table decides (秒批)."""

from __future__ import annotations

import pytest
from rich.console import Console

from tongban.applications import workflow_bridge
from tongban.applications.models import Application, AutoDecision
from tongban.catalog import demo as catalog_demo
from tongban.exchange import demo as exchange_demo
from tongban.exchange.models import AccessLogEntry, Grant
from tongban.notifications.models import Message
from tongban.policies import demo, services
from tongban.policies.errors import BadState
from tongban.policies.models import PolicyMatch

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_policies(population, settings):
    settings.TONGBAN_WORKFLOW_INLINE = True
    catalog_demo.load(Console(quiet=True))
    workflow_bridge.deploy_rules()
    exchange_demo.load(Console(quiet=True))  # the registers 青年人租房补贴 reads through the exchange
    demo.load(Console(quiet=True))
    return population


def test_confirm_creates_a_prefilled_application_decided_by_rules(demo_policies):
    company = demo_policies["company"]
    m = PolicyMatch.objects.get(policy__code="YX-ZC-WGFH", subject_name=company.display_name)
    confirmed = services.confirm(m.pk, company)
    assert confirmed.status == "confirmed" and confirmed.application_ref
    note = Message.objects.get(recipient=company, event="policies.entitlement")
    assert "确认，一键申请" in note.body and "失业保险稳岗返还" in note.subject
    app = Application.objects.get(ref=confirmed.application_ref)
    assert app.form_data["enterprise_name"] == company.display_name
    assert app.form_data["unified_credit_code"] == company.id_number
    assert app.status == Application.Status.APPROVED  # submitted at once, decided by the table
    rec = AutoDecision.objects.get(application_item__application=app)
    assert rec.outcome == "approve" and rec.inputs["credit_grade"] == "B"
    with pytest.raises(BadState):
        services.confirm(m.pk, company)


def test_demo_policies_match_and_a_draft_waits_for_its_dry_run(demo_policies):
    codes = set(PolicyMatch.objects.values_list("policy__code", flat=True))
    assert {"YX-ZC-WGFH", "YX-ZC-GLJT"} <= codes and "YX-ZC-CYBT" not in codes
    dry = services.match(["YX-ZC-CYBT"], dry_run=True)
    assert dry["policies"][0]["matched"] >= 1
    old = PolicyMatch.objects.get(policy__code="YX-ZC-GLJT")
    confirmed = services.confirm(old.pk, demo_policies["old"])  # needs materials: stays a prefilled draft
    app = Application.objects.get(ref=confirmed.application_ref)
    assert app.status == Application.Status.DRAFT and app.form_data["applicant_name"] == "王奶奶"


def test_the_demo_policy_over_shared_data_reads_it_under_its_grant(demo_policies):
    """青年人租房补贴: 住建局 reads 人社局's social insurance record of the signed-up persons of age, under its
    consent-exempt grant; the demo's 张三 and 李四 qualify, each read is in the access log."""
    grant = Grant.objects.get(consumer__code="yx-zjj", resource__code="social_insurance")
    assert grant.status == "approved" and grant.consent_exempt and grant.unmasked_fields == ["months_paid"]
    matches = PolicyMatch.objects.filter(policy__code="YX-ZC-QNZF")
    assert sorted(matches.values_list("subject_name", flat=True)) == ["张三", "李四"]
    assert "已累计缴费172个月" in matches.get(subject_name="张三").reason
    zhangsan, lisi = (matches.get(subject_name=n).user for n in ("张三", "李四"))
    reads = AccessLogEntry.objects.filter(case_ref="policy:YX-ZC-QNZF")  # 王奶奶 (85) is not read at all
    outcomes = sorted((e.subject_id, e.outcome, e.consumer_org, e.grant_id) for e in reads)
    assert outcomes == sorted([(u.id_number, "granted", "yx-zjj", grant.pk) for u in (zhangsan, lisi)]
                              + [(demo_policies["young"].id_number, "failed", "yx-zjj", grant.pk)])  # no record
    note = Message.objects.get(recipient=zhangsan, event="policies.entitlement")
    assert "无需申请，将直接为您兑现" in note.body and "确认，一键申请" not in note.body
    demo.load(Console(quiet=True))  # idempotent: no second grant; those already told are not read again
    assert Grant.objects.filter(consumer__code="yx-zjj", resource__code="social_insurance").count() == 1
    again = AccessLogEntry.objects.filter(case_ref="policy:YX-ZC-QNZF").exclude(pk__in=[e.pk for e in reads])
    assert [(e.subject_id, e.outcome) for e in again] == [(demo_policies["young"].id_number, "failed")]
