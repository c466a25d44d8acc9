"""``services.ProcessBinding``: how a context deploys, starts and completes the processes it ships."""

from __future__ import annotations

import pytest

from tongban.workflow import lookups, services
from tongban.workflow.bpmn import DefinitionError
from tongban.workflow.errors import WorkflowError
from tongban.workflow.models import ProcessDefinition, Task
from tongban.workflow.services import binding as binding_module

from .helpers import simple

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(tmp_path):
    one = tmp_path / "one.bpmn"
    one.write_text(simple("bound_one"), encoding="utf-8")
    two = tmp_path / "two.bpmn"
    two.write_text(simple("bound_two", outcomes="approve,reject,return"), encoding="utf-8")
    return one, two


def versions(key):
    return list(ProcessDefinition.objects.filter(key=key).order_by("version").values_list("version", flat=True))


def test_start_deploys_on_first_use_and_only_then(users, files, django_assert_num_queries):
    b = services.ProcessBinding(files, ["bound_one", "bound_two"])
    assert versions("bound_one") == []
    inst = b.start("bound_one", "BK-1", {"x": 1})
    assert inst.process_key == "bound_one" and versions("bound_one") == [1] and versions("bound_two") == [1]
    with django_assert_num_queries(0):  # checked a moment ago, nothing deployed since
        assert b.ensure_deployed() == []
    b.start("bound_two", "BK-2")
    assert versions("bound_one") == [1] and versions("bound_two") == [1]


def test_a_changed_file_is_deployed_again_and_running_instances_keep_their_version(users, files, monkeypatch):
    one, _ = files
    b = services.ProcessBinding(one, "bound_one")
    old = b.start("bound_one", "BK-1")
    one.write_text(simple("bound_one", outcomes="approve,reject,return"), encoding="utf-8")
    assert b.ensure_deployed() == []  # within the check interval: not looked at again yet
    clock = [binding_module.time.monotonic() + lookups.LATEST_SECONDS + 1]
    monkeypatch.setattr(binding_module.time, "monotonic", lambda: clock[0])
    [created] = b.ensure_deployed()
    assert (created.key, created.version) == ("bound_one", 2)
    new = b.start("bound_one", "BK-2")
    assert new.definition_id == created.pk != old.definition_id
    assert Task.objects.get(instance=old).outcomes == ["approve", "reject"]
    assert Task.objects.get(instance=new).outcomes == ["approve", "reject", "return"]


def test_a_version_deployed_from_other_content_is_replaced_by_the_file(users, files):
    one, _ = files
    b = services.ProcessBinding(one, "bound_one")
    b.ensure_deployed()
    services.deploy(simple("bound_one", outcomes="approve"), "edited-elsewhere.bpmn")  # (clears the caches)
    assert versions("bound_one") == [1, 2]
    [created] = b.ensure_deployed()
    assert created.version == 3 and created.source_name == "one.bpmn"
    assert b.ensure_deployed() == []


def test_deploy_keeps_unchanged_processes(users, files):
    b = services.ProcessBinding(files, ["bound_one", "bound_two"])
    first = b.deploy()
    assert sorted((d.key, d.version, d.created) for d in first) == [("bound_one", 1, True), ("bound_two", 1, True)]
    again = b.deploy()
    assert sorted((d.key, d.version, d.created) for d in again) == [("bound_one", 1, False), ("bound_two", 1, False)]


def test_misconfigured_bindings_are_refused_clearly(users, files, tmp_path):
    one, _ = files
    with pytest.raises(WorkflowError) as exc:
        services.ProcessBinding(one, ["bound_one", "bound_nowhere"]).ensure_deployed()
    assert exc.value.code == "workflow.binding_process_missing" and "bound_nowhere" in exc.value.message
    with pytest.raises(WorkflowError) as exc:
        services.ProcessBinding(one, "bound_one").start("bound_two")
    assert exc.value.code == "workflow.binding_unknown_process"
    broken = tmp_path / "broken.bpmn"
    broken.write_text("<not-bpmn", encoding="utf-8")
    with pytest.raises(DefinitionError):
        services.ProcessBinding(broken, "x").ensure_deployed()
    with pytest.raises(ValueError):
        services.ProcessBinding([], "x")
    assert versions("bound_one") == []  # nothing deployed by a refused binding


def test_open_task_and_complete(users, files):
    one, _ = files
    b = services.ProcessBinding(one, "bound_one")
    inst = b.start("bound_one", "BK")
    task = b.open_task(inst, "review")
    assert task is not None and task.instance_id == inst.pk
    assert b.open_task(str(inst.pk), "review").pk == task.pk  # an id kept as text
    assert b.open_task(inst.pk, "elsewhere") is None
    assert b.open_task(None, "review") is None and b.open_task("", "review") is None
    with pytest.raises(WorkflowError) as exc:
        b.complete(task, users["zhangsan"], "maybe")  # the outcome is still checked
    assert exc.value.code == "workflow.unknown_outcome"
    done = b.complete(task, users["zhangsan"], "approve", opinion="同意", variables={"note": "n"})
    assert done.state == Task.State.COMPLETED and done.assignee_id == users["zhangsan"].pk  # no candidate check
    inst.refresh_from_db()
    assert inst.status == "completed" and inst.variables["note"] == "n"
    assert b.open_task(inst, "review") is None
