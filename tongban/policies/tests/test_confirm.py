"""One click: a notice becomes a prefilled application that the item's decision table decides (秒批)."""

from __future__ import annotations

import pytest
from rich.console import Console

from tongban.applications import workflow_bridge
from tongban.applications.models import Application, AutoDecision
from tongban.catalog import demo as catalog_demo
from tongban.policies import demo, services
from tongban.policies.errors import BadState
from tongban.policies.models import PolicyMatch

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_policies(population, settings):
    settings.TONGBAN_WORKFLOW_INLINE = True
    catalog_demo.load(Console(quiet=True))
    workflow_bridge.deploy_rules()
    demo.load(Console(quiet=True))
    return population


def test_confirm_creates_a_prefilled_application_decided_by_rules(demo_policies):
    company = demo_policies["company"]
    m = PolicyMatch.objects.get(policy__code="YX-ZC-WGFH", subject_name=company.display_name)
    confirmed = services.confirm(m.pk, company)
    assert confirmed.status == "confirmed" and confirmed.application_ref
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
