"""The workflow's raw statements (``workflow/statements.py``) on whichever database the suite runs on: each
answers what the ORM answers, and the objects the services read fresh carry their related rows without a query."""

from __future__ import annotations

import pytest
from django.db import models
from django.utils import timezone

from tongban.core import store
from tongban.workflow import services, statements
from tongban.workflow.models import (
    DecisionDefinition,
    Event,
    ProcessDefinition,
    ProcessInstance,
    Task,
    Timer,
    Token,
)
from tongban.workflow.services.locks import _lock_task

from .helpers import bpmn, chain, dmn, simple, user_task

pytestmark = pytest.mark.django_db

ENGINE_MODELS = (ProcessInstance, Token, Task, Timer, Event)


def timed(key: str = "timed") -> str:
    return bpmn(key, "\n".join([
        '    <bpmn:startEvent id="start"/>',
        user_task("review", outcomes="approve"),
        '    <bpmn:boundaryEvent id="late" attachedToRef="review" cancelActivity="false">'
        "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:boundaryEvent>",
        '    <bpmn:endEvent id="end"/>',
        '    <bpmn:endEvent id="late_end"/>',
        chain("start", "review", "end"),
        chain("late", "late_end"),
    ]))


def test_the_engine_models_have_no_init_of_their_own():
    """``store.new`` and the store's row builder skip ``Model.__init__``: they rely on this."""
    for model in ENGINE_MODELS:
        assert model.__init__ is models.Model.__init__, model


def test_latest_version_id(users):
    assert statements.latest_version_id(ProcessDefinition, "simple") is None
    [v1] = services.deploy(simple(), "s.bpmn")
    [v2] = services.deploy(simple(outcomes="approve"), "s.bpmn")
    services.deploy(simple("other"), "o.bpmn")
    assert v2.version == 2
    assert statements.latest_version_id(ProcessDefinition, "simple") == v2.pk != v1.pk
    [d] = services.deploy_decisions(dmn("d1", "UNIQUE", ["x"], ["y"], [(["1"], ['"a"'])]), "d.dmn")
    assert statements.latest_version_id(DecisionDefinition, "d1") == d.pk
    assert statements.latest_version_id(DecisionDefinition, "simple") is None


def test_rows_read_by_the_store_equal_the_orms(users):
    services.deploy(timed(), "t.bpmn")
    inst = services.start("timed", "BK-1", {"n": 1, "list": [], "nested": {"a": "二"}})
    assert Timer.objects.filter(instance=inst).exists() and Event.objects.filter(instance=inst).exists()
    for model in ENGINE_MODELS:
        for orm in model.objects.all():
            [raw] = store.select(model, f"{store.column(model, 'id')} = %s", [orm.pk])
            for field in model._meta.concrete_fields:
                assert getattr(raw, field.attname) == getattr(orm, field.attname), (model, field.name)


def test_live_tokens(users):
    services.deploy(simple(), "s.bpmn")
    inst = services.start("simple")
    [tok] = statements.live_tokens(inst.pk)
    assert (tok.element_id, tok.state) == ("review", Token.State.WAITING)
    assert {t.pk for t in statements.live_tokens(inst.pk)} == set(
        Token.objects.filter(instance=inst).exclude(state=Token.State.DONE).values_list("pk", flat=True))
    services.complete(Task.objects.get(instance=inst), users["approver-scjg"], "approve")
    assert statements.live_tokens(inst.pk) == []


def test_cancel_timers_of_tokens_touches_only_their_pending_timers(users):
    services.deploy(timed(), "t.bpmn")
    a, b, c = (services.start("timed", f"BK-{n}") for n in range(3))
    fired_at = timezone.now()
    Timer.objects.filter(instance=c).update(fired_at=fired_at)
    tokens = [Token.objects.get(instance=i, element_id="review").pk for i in (a, c)]
    now = timezone.now()
    statements.cancel_timers_of_tokens(tokens, now)
    statements.cancel_timers_of_tokens([], now)  # nothing to do, no statement
    assert Timer.objects.get(instance=a).cancelled_at == now
    assert Timer.objects.get(instance=b).cancelled_at is None
    fired = Timer.objects.get(instance=c)
    assert fired.cancelled_at is None and fired.fired_at == fired_at


def test_insert_events_writes_one_row_per_event_in_order(users):
    services.deploy(simple(), "s.bpmn")
    inst = services.start("simple")
    task = Task.objects.get(instance=inst)
    before = set(Event.objects.values_list("pk", flat=True))
    at = timezone.now()
    admin = users["admin"]
    statements.insert_events(inst.pk, admin.pk, "管理员", at, [
        ("review", "probe.one", task, {"x": [1, 2]}),
        ("", "probe.two", None, {}),
    ])
    statements.insert_events(inst.pk, None, "system", at, [])
    rows = list(Event.objects.exclude(pk__in=before).order_by("pk").values_list(
        "instance_id", "element_id", "type", "task_id", "actor_id", "actor_label", "at", "data"))
    assert rows == [(inst.pk, "review", "probe.one", task.pk, admin.pk, "管理员", at, {"x": [1, 2]}),
                    (inst.pk, "", "probe.two", None, admin.pk, "管理员", at, {})]


def test_lock_instances_returns_the_instance_last(users):
    services.deploy(simple(), "s.bpmn")
    root, other = services.start("simple", "R"), services.start("simple", "O")
    assert [i.pk for i in statements.lock_instances(other.pk, None)] == [other.pk]
    assert [i.pk for i in statements.lock_instances(other.pk, root.pk)] == [other.pk]
    [fresh] = statements.lock_instances(root.pk, root.pk)
    assert fresh.business_key == "R" and fresh.variables == root.variables
    assert statements.lock_instances(other.pk + 1000, None) == []


def test_read_task_reads_the_task_its_instance_and_live_tokens(users):
    services.deploy(simple(), "s.bpmn")
    inst = services.start("simple", "BK")
    task = Task.objects.get(instance=inst)
    found, instance, tokens = statements.read_task(task.pk, with_tokens=True)
    assert (found.pk, found.element_id, instance.pk, instance.business_key) == (task.pk, "review", inst.pk, "BK")
    assert [t.element_id for t in tokens] == ["review"]
    assert statements.read_task(task.pk, with_tokens=False)[2] is None
    assert statements.read_task(task.pk + 1000, with_tokens=True) is None


def test_fresh_tasks_carry_their_instance_and_assignee_without_a_query(users, django_assert_num_queries):
    services.deploy(simple(), "s.bpmn")
    inst = services.start("simple", "BK")
    task = Task.objects.get(instance=inst)
    fresh = _lock_task(task)
    with django_assert_num_queries(0):
        assert fresh.instance.business_key == "BK" and fresh.instance_id == inst.pk
    done = services.complete(task, users["approver-scjg"], "approve")
    with django_assert_num_queries(0):
        assert done.assignee.username == "approver-scjg" and done.assignee_id == users["approver-scjg"].pk
    assert Task.objects.get(pk=task.pk).assignee_id == users["approver-scjg"].pk
