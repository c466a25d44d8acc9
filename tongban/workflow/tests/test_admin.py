"""The event log in the admin site: read-only, filtered by type without scanning, searchable by actor."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.workflow import services
from tongban.workflow.models import Event

from .helpers import simple

pytestmark = pytest.mark.django_db


def test_event_log_by_type_and_by_actor(users):
    services.deploy(simple(), "s.bpmn")
    inst = services.start("simple", "ADMIN-1", actor=users["clerk"])
    [task] = inst.created_tasks
    services.complete(task, users["approver-scjg"], "approve")
    c = Client()
    assert c.login(username="admin", password="tongban-demo")
    resp = c.get("/admin/workflow/event/", {"type": "element.completed"})
    assert "流程启动 (instance.started)" in resp.content.decode()  # the fixed choices of the filter
    done = Event.objects.filter(instance=inst, type="element.completed")
    assert sorted(resp.context["cl"].queryset.values_list("pk", flat=True)) == sorted(done.values_list("pk", flat=True))
    label = str(users["approver-scjg"])
    by_actor = c.get("/admin/workflow/event/", {"q": label}).context["cl"].queryset
    # what the approver did: completed the review, which ended the instance
    assert set(by_actor.values_list("type", flat=True)) == {"element.completed", "instance.completed"}
    assert all(e.actor_label == label for e in by_actor)
    event = done.first()
    assert c.get(f"/admin/workflow/event/{event.pk}/change/").status_code == 200  # viewable
    assert c.post(f"/admin/workflow/event/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Event.objects.filter(pk=event.pk).exists()
