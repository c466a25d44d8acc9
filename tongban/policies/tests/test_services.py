"""免申即享: batch and event matching, notices with plain-Chinese reasons, opt-out, dry run, one-click confirm."""

from __future__ import annotations

import pytest

from tongban.core import events
from tongban.notifications.models import Delivery, Message
from tongban.policies import delivery, services
from tongban.policies.errors import BadState, NotFound, PolicyError
from tongban.policies.models import MatchRun, Policy, PolicyMatch
from tongban.supervision.models import MarketEntity

from .conftest import ELDERLY, REFUND, STARTUP

pytestmark = pytest.mark.django_db


def test_batch_match_notifies_each_qualifying_subject_once_with_a_plain_reason(population):
    services.save_policy(ELDERLY, publish=True)
    services.save_policy(REFUND, publish=True)
    result = services.match()
    counts = {r["code"]: r for r in result["policies"]}
    assert counts["T-GLJT"]["matched"] == 1 and counts["T-GLJT"]["new"] == 1
    assert counts["T-WGFH"]["matched"] == 3  # A and B legal persons and the company; not the D one
    old = PolicyMatch.objects.get(policy__code="T-GLJT")
    assert old.subject_name == "王奶奶" and old.reason == "您今年85周岁，已满80周岁，可以享受高龄津贴。"
    assert old.facts == {"person.age": 85}
    note = Message.objects.get(recipient=population["old"])  # 我的消息, through the notifications context
    assert note.event == "policies.entitlement" and note.link == "/policies/my/" and note.ref == "T-GLJT"
    assert "高龄津贴" in note.subject and "85周岁" in note.body and "《老年人权益保障法》第三十三条" in note.body
    assert "{" not in note.body + note.subject + note.short_text and "我的政策" in note.short_text
    assert note.deliveries.get(channel="inbox").status == Delivery.Status.SENT
    # the company's notice names its grade in words generated from the rule
    company = PolicyMatch.objects.get(policy__code="T-WGFH", subject_name=population["company"].display_name)
    assert "信用等级 属于 A、B、C" in company.reason and "《失业保险条例》" in company.reason
    again = services.match()
    assert sum(r["new"] for r in again["policies"]) == 0  # nobody is told twice
    assert Message.objects.filter(recipient=population["old"]).count() == 1
    assert MatchRun.objects.filter(trigger="batch").count() == 2


def test_dry_run_counts_a_draft_and_tells_nobody(population):
    services.save_policy(STARTUP)
    result = services.match(["T-CYBT"], dry_run=True)
    [row] = result["policies"]
    assert row["matched"] == 1 and row["sample"][0]["name"] == "测试主体4" and row["new"] == 0
    assert not PolicyMatch.objects.exists() and not Message.objects.exists()
    assert result["run"].trigger == "dry_run"
    with pytest.raises(NotFound):  # a draft does not match for real
        services.match(["T-CYBT"])


def test_bad_rules_and_policies_without_legal_basis_are_refused(population):
    with pytest.raises(PolicyError, match="运算符"):
        services.save_policy({**ELDERLY, "rule": [{"attr": "person.age", "op": "~", "value": 1}]})
    with pytest.raises(PolicyError, match="未登记"):
        services.save_policy({**ELDERLY, "rule": [{"attr": "person.income", "op": ">", "value": 1}]})
    with pytest.raises(PolicyError, match="政策依据"):
        services.save_policy({**ELDERLY, "legal_basis": []})
    assert not Policy.objects.exists()


def test_opt_out_stops_notices(population):
    services.save_policy(REFUND, publish=True)
    company = population["company"]
    services.opt_out(company, all_policies=True)
    result = services.match()
    assert result["policies"][0]["opted_out"] == 1
    assert not PolicyMatch.objects.filter(subject_name=company.display_name).exists()


def test_decline_and_opt_out_of_one_policy(population):
    services.save_policy(ELDERLY, publish=True)
    services.match()
    old = population["old"]
    m = PolicyMatch.objects.get()
    services.decline(m.pk, old)
    with pytest.raises(BadState):
        services.decline(m.pk, old)
    with pytest.raises(NotFound):  # someone else's notice
        services.decline(m.pk, population["young"])


def test_grade_change_matches_at_once(population, django_capture_on_commit_callbacks):
    services.save_policy(REFUND, publish=True)
    d_grade = population["entities"][2]
    with django_capture_on_commit_callbacks(execute=True):
        MarketEntity.objects.filter(pk=d_grade.pk).update(grade="B")
        events.entity_graded.send(sender=MarketEntity, usccs=[d_grade.uscc])
    m = PolicyMatch.objects.get()
    assert m.subject_name == d_grade.name and m.run.trigger == "event" and m.run.event == "entity_graded"


def test_approval_event_matches_the_policy_listening_to_it(population, django_capture_on_commit_callbacks):
    services.save_policy({**ELDERLY, "code": "T-EVENT", "events": ["decision_made:X-ITEM"]}, publish=True)
    with django_capture_on_commit_callbacks(execute=True):
        events.decision_made.send(sender=None, application_ref="A1", item_code="X-ITEM", outcome="approved",
                                  holder={"id_number": population["old"].id_number}, result={},
                                  organisation_code="yx-rsj")
    assert PolicyMatch.objects.get().run.event == "decision_made:X-ITEM"


def test_a_notice_goes_out_once_per_person_and_policy_on_the_channels_they_chose(population, settings):
    """The dedupe key of the message: a match re-created (e.g. a policy re-imported) does not tell twice; e-mail
    is queued for the background worker when the person chose it."""
    from tongban.notifications import services as notifications

    old = population["old"]
    old.email = "wang@example.cn"
    old.save(update_fields=["email"])
    notifications.set_channels(old, ["email"])
    services.save_policy(ELDERLY, publish=True)
    services.match()
    m = PolicyMatch.objects.get()
    assert delivery.deliver(m) is False  # the same person and policy: already told
    note = Message.objects.get(recipient=old)
    assert note.dedupe_key == f"policies.entitlement:T-GLJT:{old.pk}"
    assert set(note.deliveries.values_list("channel", "status")) == {("inbox", Delivery.Status.SENT),
                                                                     ("email", Delivery.Status.PENDING)}
    m.delete()
    again = services.match()
    assert again["policies"][0]["new"] == 1 and Message.objects.filter(recipient=old).count() == 1
