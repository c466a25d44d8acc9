from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tongban.core.models import AuditLog
from tongban.workflow import services
from tongban.workflow.errors import WorkflowError
from tongban.workflow.models import (
    DecisionDefinition,
    Event,
    ProcessDefinition,
    ProcessInstance,
    Task,
    Timer,
    Token,
)

from .helpers import bpmn, chain, dmn, flow, simple, user_task

pytestmark = pytest.mark.django_db


def open_tasks(inst: ProcessInstance) -> list[Task]:
    return list(Task.objects.filter(instance__in=[inst, *inst.children.all()], state__in=["open", "claimed"])
                .order_by("element_id", "pk"))


def types(inst: ProcessInstance) -> list[str]:
    return list(Event.objects.filter(instance=inst).order_by("pk").values_list("type", flat=True))


# --- deployment -------------------------------------------------------------------------------------------------


def test_deploy_versions_only_on_change(users):
    [v1] = services.deploy(simple(), "s.bpmn", users["admin"])
    assert (v1.key, v1.version, v1.created) == ("simple", 1, True)
    [again] = services.deploy(simple(), "s.bpmn")
    assert (again.pk, again.created) == (v1.pk, False)
    inst1 = services.start("simple", "A")
    [v2] = services.deploy(simple(outcomes="approve,reject,return"), "s.bpmn")
    assert v2.version == 2
    inst2 = services.start("simple", "B")
    assert inst1.definition_id == v1.pk and inst2.definition_id == v2.pk
    # the running instance keeps its version: its task still has the old outcomes
    assert Task.objects.get(instance=inst1).outcomes == ["approve", "reject"]
    assert Task.objects.get(instance=inst2).outcomes == ["approve", "reject", "return"]
    assert AuditLog.objects.filter(action="workflow.process.deploy").count() == 2
    assert ProcessDefinition.objects.get(pk=v1.pk).display_xml.count("<bpmndi:BPMNShape ") == 3  # generated layout


def test_a_deploy_in_another_process_is_seen_within_seconds(users, monkeypatch):
    """The latest version is cached: a deploy in this process is seen at once (signal), one in another process
    (here: a row written without signals) once the cache entry is older than LATEST_SECONDS."""
    from tongban.workflow import lookups

    [v1] = services.deploy(simple(), "s.bpmn")
    assert services.start("simple").definition_id == v1.pk
    row = ProcessDefinition.objects.values().get(pk=v1.pk)
    row.update(id=None, version=2, checksum="other-process")
    [v2] = ProcessDefinition.objects.bulk_create([ProcessDefinition(**row)])  # bulk_create sends no signals
    assert services.start("simple").definition_id == v1.pk  # still cached
    clock = [lookups.time.monotonic() + lookups.LATEST_SECONDS + 1]
    monkeypatch.setattr(lookups.time, "monotonic", lambda: clock[0])
    assert services.start("simple").definition_id == v2.pk


def test_start_returns_the_tasks_it_opened(users):
    services.deploy(simple(), "s.bpmn")
    inst = services.start("simple", "BK-9")
    [task] = inst.created_tasks
    assert task.pk and task.instance_id == inst.pk and task.state == "open"
    assert list(Task.objects.filter(instance=inst).values_list("pk", flat=True)) == [task.pk]


def test_start_unknown_process():
    with pytest.raises(WorkflowError) as info:
        services.start("nope")
    assert info.value.code == "workflow.process_not_found"


def test_bad_variables_change_nothing(users):
    services.deploy(simple(), "s.bpmn")
    with pytest.raises(WorkflowError) as info:
        services.start("simple", variables={"x": object()})
    assert info.value.code == "workflow.invalid_variables"
    assert not ProcessInstance.objects.exists()


# --- user tasks, outcomes and permissions -----------------------------------------------------------------------


def test_simple_process_end_to_end_with_events(users):
    services.deploy(simple(), "s.bpmn")
    inst = services.start("simple", "BK-1", {"applicant": "张三"}, users["clerk"])
    [task] = open_tasks(inst)
    assert (task.name, task.candidate_role, task.candidate_org.code) == ("审查", "approver", "yx-scjg")
    approver = users["approver-scjg"]
    services.claim(task, approver)
    services.complete(task, approver, "approve", {"note": "ok"}, opinion="同意")
    inst.refresh_from_db()
    task.refresh_from_db()
    assert inst.status == "completed" and inst.ended_at
    assert inst.variables == {"applicant": "张三", "note": "ok", "outcome": "approve", "review_outcome": "approve"}
    assert (task.state, task.outcome, task.opinion, task.assignee) == ("completed", "approve", "同意", approver)
    assert types(inst) == ["instance.started", "element.completed", "element.started", "task.claimed",
                           "element.completed", "element.completed", "instance.completed"]
    done = Event.objects.get(instance=inst, type="element.completed", element_id="review")
    assert (done.actor, done.task_id, done.data["outcome"]) == (approver, task.pk, "approve")
    assert Event.objects.get(type="instance.started").actor == users["clerk"]
    assert not Token.objects.filter(instance=inst).exclude(state="done").exists()
    # the event log is the audit trail of engine steps: who, when, what (no second row in core's audit log)
    assert done.at and done.actor_label == str(approver)


def test_completing_as_someone_without_the_role_is_refused(users):
    services.deploy(simple(), "s.bpmn")
    inst = services.start("simple")
    [task] = open_tasks(inst)
    for name in ("approver-xf", "zhangsan", "clerk"):
        with pytest.raises(WorkflowError) as info:
            services.complete(task, users[name], "approve")
        assert (info.value.code, info.value.status) == ("workflow.not_candidate", 403)
    with pytest.raises(WorkflowError) as info:
        services.claim(task, users["approver-ga"])
    assert info.value.code == "workflow.not_candidate"
    task.refresh_from_db()
    assert task.state == "open" and task.assignee is None


def test_completing_a_task_claimed_by_another_is_refused(users):
    from tongban.core.services import grant_role, upsert_user

    colleague = upsert_user("approver-scjg-2", display_name="同事", kind="staff")
    grant_role(colleague, "approver", users["approver-scjg"].organisation)
    services.deploy(simple(), "s.bpmn")
    inst = services.start("simple")
    [task] = open_tasks(inst)
    services.claim(task, users["approver-scjg"])
    with pytest.raises(WorkflowError) as info:
        services.complete(task, colleague, "approve")
    assert (info.value.code, info.value.status) == ("workflow.task_not_held", 403)
    with pytest.raises(WorkflowError) as info:
        services.claim(task, colleague)
    assert info.value.code == "workflow.task_already_claimed"
    services.unclaim(task, users["approver-scjg"])
    services.complete(task, colleague, "reject")
    task.refresh_from_db()
    assert task.assignee == colleague and task.outcome == "reject"


def test_unknown_or_missing_outcome(users):
    services.deploy(simple(), "s.bpmn")
    inst = services.start("simple")
    [task] = open_tasks(inst)
    u = users["approver-scjg"]
    with pytest.raises(WorkflowError) as info:
        services.complete(task, u, "maybe")
    assert (info.value.code, info.value.detail["allowed"]) == ("workflow.unknown_outcome", ["approve", "reject"])
    with pytest.raises(WorkflowError) as info:
        services.complete(task, u, "")
    assert info.value.code == "workflow.outcome_required"
    services.complete(task, u, "approve")
    with pytest.raises(WorkflowError) as info:
        services.complete(task, u, "approve")
    assert info.value.code == "workflow.task_not_open"
    assert Event.objects.filter(instance=inst, type="element.completed", element_id="review").count() == 1


def test_candidate_org_from_a_variable_and_superuser(users):
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        user_task("t", org="${org}"),
        '    <bpmn:endEvent id="end"/>',
        chain("start", "t", "end"),
    ]))
    services.deploy(xml, "p.bpmn")
    inst = services.start("p", variables={"org": "yx-xf"})
    [task] = open_tasks(inst)
    assert task.candidate_org.code == "yx-xf"
    with pytest.raises(WorkflowError):
        services.complete(task, users["approver-scjg"])
    services.complete(task, users["admin"])  # superuser holds every role
    with pytest.raises(WorkflowError) as info:
        services.start("p", variables={"org": "no-such-org"})
    assert info.value.code == "workflow.unknown_organisation"
    assert ProcessInstance.objects.count() == 1


# --- gateways ---------------------------------------------------------------------------------------------------


def routing_process() -> str:
    return bpmn("route", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        user_task("review", outcomes="approve,reject,return"),
        '    <bpmn:exclusiveGateway id="gw" default="f_other"/>',
        user_task("decide", "决定"),
        user_task("fix", "补正", role="window_clerk", org="yx-zwzx"),
        '    <bpmn:endEvent id="rejected"/>',
        '    <bpmn:endEvent id="done"/>',
        chain("start", "review", "gw"),
        flow("f_ok", "gw", "decide", "${outcome == 'approve' and amount &lt; 1000}"),
        flow("f_no", "gw", "rejected", "${outcome == 'reject'}"),
        flow("f_other", "gw", "fix"),
        flow("f_fix_back", "fix", "review"),
        flow("f_decide", "decide", "done"),
    ]))


def test_exclusive_gateway_routes_on_outcome_and_default(users):
    services.deploy(routing_process(), "r.bpmn")
    u = users["approver-scjg"]
    a = services.start("route", variables={"amount": 10})
    services.complete(open_tasks(a)[0], u, "approve")
    assert [t.element_id for t in open_tasks(a)] == ["decide"]
    b = services.start("route", variables={"amount": 10})
    services.complete(open_tasks(b)[0], u, "reject")
    b.refresh_from_db()
    assert b.status == "completed" and not open_tasks(b)
    c = services.start("route", variables={"amount": 5000})
    services.complete(open_tasks(c)[0], u, "approve")  # condition false → default flow
    assert [t.element_id for t in open_tasks(c)] == ["fix"]
    services.complete(open_tasks(c)[0], users["clerk"])  # loop back to review
    assert [t.element_id for t in open_tasks(c)] == ["review"]
    gw = Event.objects.filter(instance=c, element_id="gw").first()
    assert gw.data["flows"] == ["f_other"]


def test_no_matching_flow_rolls_back(users):
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        user_task("review", outcomes="approve,reject"),
        '    <bpmn:exclusiveGateway id="gw"/>',
        '    <bpmn:endEvent id="e1"/>',
        chain("start", "review", "gw"),
        flow("f1", "gw", "e1", "${outcome == 'approve'}"),
    ]))
    services.deploy(xml, "p.bpmn")
    inst = services.start("p")
    [task] = open_tasks(inst)
    before = Event.objects.count()
    with pytest.raises(WorkflowError) as info:
        services.complete(task, users["approver-scjg"], "reject")
    assert info.value.code == "workflow.no_matching_flow"
    task.refresh_from_db()
    assert task.state == "open" and Event.objects.count() == before


def parallel_process(key: str = "par", join_to: str = "decide") -> str:
    return bpmn(key, "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:parallelGateway id="fork"/>',
        user_task("scjg", "市场监管审查", org="yx-scjg", outcomes="approve,reject"),
        user_task("xf", "消防审查", org="yx-xf", outcomes="approve,reject"),
        user_task("cg", "城管审查", org="yx-cg", outcomes="approve,reject"),
        '    <bpmn:parallelGateway id="join"/>',
        user_task("decide", "决定", org="yx-zwzx", role="window_clerk"),
        '    <bpmn:endEvent id="end"/>',
        flow("f0", "start", "fork"),
        flow("f1", "fork", "scjg"), flow("f2", "fork", "xf"), flow("f3", "fork", "cg"),
        flow("f4", "scjg", "join"), flow("f5", "xf", "join"), flow("f6", "cg", "join"),
        flow("f7", "join", join_to), flow("f8", "decide", "end") if join_to == "decide" else "",
    ]))


def test_parallel_fork_and_join(users):
    services.deploy(parallel_process(), "par.bpmn")
    inst = services.start("par", "P-1")
    tasks = {t.element_id: t for t in open_tasks(inst)}
    assert set(tasks) == {"scjg", "xf", "cg"}
    assert {t.candidate_org.code for t in tasks.values()} == {"yx-scjg", "yx-xf", "yx-cg"}
    services.complete(tasks["xf"], users["approver-xf"], "approve")
    services.complete(tasks["scjg"], users["approver-scjg"], "approve")
    assert {t.element_id for t in open_tasks(inst)} == {"cg"}
    assert Token.objects.filter(instance=inst, element_id="join", state="waiting").count() == 2
    services.complete(tasks["cg"], users["approver-cg"], "reject")
    assert [t.element_id for t in open_tasks(inst)] == ["decide"]
    inst.refresh_from_db()
    assert (inst.variables["scjg_outcome"], inst.variables["xf_outcome"], inst.variables["cg_outcome"]) == (
        "approve", "approve", "reject")
    assert Event.objects.filter(instance=inst, type="element.completed", element_id="join").count() == 1
    assert Token.objects.filter(instance=inst).exclude(state="done").count() == 1


# --- service tasks, decisions -----------------------------------------------------------------------------------


def auto_process() -> str:
    return bpmn("cert", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:businessRuleTask id="rules" tongban:decisionRef="cert_rules" tongban:resultVariable="route"/>',
        '    <bpmn:exclusiveGateway id="gw"/>',
        '    <bpmn:serviceTask id="issue" name="秒批出证" tongban:handler="workflow.auto_approve"/>',
        user_task("manual", "人工审核"),
        '    <bpmn:endEvent id="auto_end"/>',
        '    <bpmn:endEvent id="manual_end"/>',
        chain("start", "rules", "gw"),
        flow("f_auto", "gw", "issue", "${route == 'auto'}"),
        flow("f_manual", "gw", "manual", "${route != 'auto'}"),
        flow("f_issue", "issue", "auto_end"), flow("f_m", "manual", "manual_end"),
    ]))


def cert_rules() -> str:
    return dmn("cert_rules", "FIRST", ["credit", "age"], ["route"],
               [(['"A"', "[18..60]"], ['"auto"']), (["-", "-"], ['"manual"'])])


def test_decision_routes_to_auto_approval(users):
    services.deploy_decisions(cert_rules(), "rules.dmn")
    services.deploy(auto_process(), "cert.bpmn")
    auto = services.start("cert", "C-1", {"credit": "A", "age": 30})
    auto.refresh_from_db()
    assert auto.status == "completed"
    assert auto.variables["route"] == "auto" and auto.variables["decision"] == "approve"
    ev = Event.objects.get(instance=auto, type="decision.evaluated")
    assert (ev.data["decision"], ev.data["result"]) == ("cert_rules", "auto")
    manual = services.start("cert", "C-2", {"credit": "B", "age": 30})
    assert [t.element_id for t in open_tasks(manual)] == ["manual"]


def test_a_process_naming_an_undeployed_decision_is_refused_at_deploy_time(users):
    from tongban.workflow.bpmn import DefinitionError

    with pytest.raises(DefinitionError) as info:
        services.deploy(auto_process(), "cert.bpmn")
    [line] = info.value.lines()
    assert line.startswith("cert.bpmn:5: element rules: unknown decision 'cert_rules'"), line
    assert not ProcessDefinition.objects.filter(key="cert").exists()
    services.deploy_decisions(cert_rules(), "rules.dmn")
    [definition] = services.deploy(auto_process(), "cert.bpmn")
    assert definition.created and definition.version == 1


def test_decision_not_deployed_when_the_step_runs_is_a_clear_error(users):
    services.deploy_decisions(cert_rules(), "rules.dmn")
    services.deploy(auto_process(), "cert.bpmn")
    DecisionDefinition.objects.all().delete()  # (removed behind the engine's back)
    with pytest.raises(WorkflowError) as info:
        services.start("cert", variables={"credit": "A"})
    assert info.value.code == "workflow.decision_not_found"
    assert not ProcessInstance.objects.exists()


def test_decision_versions(users):
    services.deploy_decisions(cert_rules(), "rules.dmn")
    [v2] = services.deploy_decisions(dmn("cert_rules", "UNIQUE", ["credit"], ["route"], [(["-"], ['"manual"'])]),
                                     "rules.dmn")
    assert v2.version == 2
    assert services.evaluate_decision("cert_rules", {"credit": "A"}) == "manual"


def test_service_task_in_the_worker(settings, users):
    settings.TONGBAN_WORKFLOW_INLINE = False
    from django_tasks_db.models import DBTaskResult

    services.deploy_decisions(cert_rules(), "rules.dmn")
    services.deploy(auto_process(), "cert.bpmn")
    inst = services.start("cert", variables={"credit": "A", "age": 30})
    tok = Token.objects.get(instance=inst, element_id="issue")
    assert tok.state == "waiting" and tok.data["service"] == "pending"
    queued = DBTaskResult.objects.get(task_path="tongban.workflow.tasks.run_service_task_task")
    assert queued.args_kwargs["args"] == [tok.pk]
    assert services.run_service_task(tok.pk) is True
    assert services.run_service_task(tok.pk) is False  # second delivery does nothing
    inst.refresh_from_db()
    assert inst.status == "completed" and inst.variables["decision"] == "approve"


def test_failing_service_task_is_an_incident_and_can_be_retried(users, settings):
    xml = bpmn("svc", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:serviceTask id="s" tongban:handler="workflow.fail" tongban:message="下游系统不可用"/>',
        '    <bpmn:endEvent id="end"/>',
        chain("start", "s", "end"),
    ]))
    services.deploy(xml, "svc.bpmn")
    inst = services.start("svc")
    inst.refresh_from_db()
    assert inst.status == "running" and "下游系统不可用" in inst.incident
    assert Event.objects.filter(instance=inst, type="service.failed").count() == 1
    settings.TONGBAN_WORKFLOW_INLINE = False
    assert services.retry_service_task(inst, users["admin"]) == 1
    inst.refresh_from_db()
    assert inst.incident == ""
    tok = Token.objects.get(instance=inst, element_id="s")
    assert tok.data["service"] == "pending"


# --- sub-process, call activity ---------------------------------------------------------------------------------


def test_embedded_sub_process(users):
    xml = bpmn("sub", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:subProcess id="sp" name="联合踏勘">',
        '      <bpmn:startEvent id="sp_start"/>',
        '      <bpmn:parallelGateway id="sp_fork"/>',
        "  " + user_task("inner_a", org="yx-scjg"),
        "  " + user_task("inner_b", org="yx-xf"),
        '      <bpmn:endEvent id="sp_end_a"/>',
        '      <bpmn:endEvent id="sp_end_b"/>',
        chain("sp_start", "sp_fork"),
        flow("sf1", "sp_fork", "inner_a"), flow("sf2", "sp_fork", "inner_b"),
        flow("sf3", "inner_a", "sp_end_a"), flow("sf4", "inner_b", "sp_end_b"),
        "    </bpmn:subProcess>",
        user_task("after", org="yx-scjg"),
        '    <bpmn:endEvent id="end"/>',
        chain("start", "sp", "after", "end"),
    ]))
    services.deploy(xml, "sub.bpmn")
    inst = services.start("sub")
    tasks = {t.element_id: t for t in open_tasks(inst)}
    assert set(tasks) == {"inner_a", "inner_b"}
    sp_token = Token.objects.get(instance=inst, element_id="sp")
    assert sp_token.state == "waiting"
    assert Token.objects.get(pk=tasks["inner_a"].token_id).parent_id == sp_token.pk
    services.complete(tasks["inner_a"], users["approver-scjg"])
    assert [t.element_id for t in open_tasks(inst)] == ["inner_b"]
    services.complete(tasks["inner_b"], users["approver-xf"])
    assert [t.element_id for t in open_tasks(inst)] == ["after"]


ITEM_PROCESS = bpmn("item_review", "\n".join([
    '    <bpmn:startEvent id="start"/>',
    user_task("item_task", "事项审批", org="${item.org}", outcomes="approve,reject"),
    '    <bpmn:endEvent id="end"/>',
    chain("start", "item_task", "end"),
]))


def bundle_process() -> str:
    return bpmn("bundle", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:callActivity id="items_ca" name="各事项并联办理" calledElement="${item.process}" '
        'tongban:collection="items" tongban:businessKey="${item.code}"/>',
        user_task("deliver", "统一出件", org="yx-zwzx", role="window_clerk"),
        '    <bpmn:endEvent id="end"/>',
        chain("start", "items_ca", "deliver", "end"),
    ]))


def test_call_activity_fans_out_one_child_per_item_and_joins(users):
    services.deploy(ITEM_PROCESS, "item.bpmn")
    services.deploy(bundle_process(), "bundle.bpmn")
    items = [{"code": "I-scjg", "org": "yx-scjg", "process": "item_review"},
             {"code": "I-xf", "org": "yx-xf", "process": "item_review"},
             {"code": "I-cg", "org": "yx-cg", "process": "item_review"}]
    parent = services.start("bundle", "B-1", {"items": items, "applicant": "张三"})
    children = list(parent.children.order_by("parent_index"))
    assert [c.business_key for c in children] == ["I-scjg", "I-xf", "I-cg"]
    assert all(c.root_id == parent.pk and c.variables["applicant"] == "张三" for c in children)
    assert "items" not in children[0].variables and children[0].variables["item"] == items[0]
    # departments see only their own item
    by_org = {t.candidate_org.code: t for t in Task.objects.filter(instance__in=children)}
    assert set(by_org) == {"yx-scjg", "yx-xf", "yx-cg"}
    services.complete(by_org["yx-scjg"], users["approver-scjg"], "approve")
    services.complete(by_org["yx-xf"], users["approver-xf"], "reject")
    assert not Task.objects.filter(instance=parent).exists()
    services.complete(by_org["yx-cg"], users["approver-cg"], "approve")
    [deliver] = Task.objects.filter(instance=parent)
    assert deliver.element_id == "deliver"
    parent.refresh_from_db()
    results = parent.variables["items_ca_results"]
    assert [r["variables"]["item_task_outcome"] for r in results] == ["approve", "reject", "approve"]
    assert [r["status"] for r in results] == ["completed"] * 3


def test_call_activity_over_an_empty_list_continues(users):
    services.deploy(ITEM_PROCESS, "item.bpmn")
    services.deploy(bundle_process(), "bundle.bpmn")
    parent = services.start("bundle", "B-0", {"items": []})
    assert [t.element_id for t in Task.objects.filter(instance=parent)] == ["deliver"]


def test_cancelling_a_child_lets_the_bundle_continue_and_cancelling_the_parent_cancels_all(users):
    services.deploy(ITEM_PROCESS, "item.bpmn")
    services.deploy(bundle_process(), "bundle.bpmn")
    items = [{"code": "a", "org": "yx-scjg", "process": "item_review"},
             {"code": "b", "org": "yx-xf", "process": "item_review"}]
    parent = services.start("bundle", "B-2", {"items": items})
    first, second = parent.children.order_by("parent_index")
    services.cancel_instance(first, users["admin"], "申请人撤回该事项")
    services.complete(Task.objects.get(instance=second), users["approver-xf"], "approve")
    parent.refresh_from_db()
    assert [r["status"] for r in parent.variables["items_ca_results"]] == ["cancelled", "completed"]
    services.cancel_instance(parent, users["admin"], "申请人撤回")
    parent.refresh_from_db()
    assert parent.status == "cancelled"
    assert not Task.objects.filter(state__in=["open", "claimed"]).exists()
    with pytest.raises(WorkflowError) as info:
        services.cancel_instance(parent, users["admin"])
    assert info.value.code == "workflow.instance_not_running"


# --- timers -----------------------------------------------------------------------------------------------------


def timer_process(cancel: bool = True, timer: str = "<bpmn:timeDuration>PT1H</bpmn:timeDuration>") -> str:
    return bpmn("timed", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        user_task("review", outcomes="approve"),
        f'    <bpmn:boundaryEvent id="late" attachedToRef="review" cancelActivity="{str(cancel).lower()}">'
        f"<bpmn:timerEventDefinition>{timer}</bpmn:timerEventDefinition></bpmn:boundaryEvent>",
        user_task("urge", "催办", org="yx-gov", role="administrator"),
        '    <bpmn:endEvent id="end"/>',
        '    <bpmn:endEvent id="urged"/>',
        chain("start", "review", "end"),
        flow("f_late", "late", "urge"), flow("f_urged", "urge", "urged"),
    ]))


def test_interrupting_timer_fires_once(users):
    services.deploy(timer_process(), "t.bpmn")
    inst = services.start("timed")
    [timer] = Timer.objects.filter(instance=inst)
    assert abs((timer.due_at - timezone.now()).total_seconds() - 3600) < 60
    assert services.fire_due_timers() == 0  # not due yet
    later = timezone.now() + timedelta(hours=2)
    assert services.fire_due_timers(now=later) == 1
    assert services.fire_due_timers(now=later) == 0
    assert services.fire_timer(timer.pk, now=later) is False
    assert [t.element_id for t in open_tasks(inst)] == ["urge"]
    assert Task.objects.get(instance=inst, element_id="review").state == "cancelled"
    assert Event.objects.filter(instance=inst, type="timer.fired").count() == 1


def test_timer_is_cancelled_when_the_task_is_done_in_time(users):
    services.deploy(timer_process(), "t.bpmn")
    inst = services.start("timed")
    services.complete(open_tasks(inst)[0], users["approver-scjg"], "approve")
    timer = Timer.objects.get(instance=inst)
    assert timer.cancelled_at is not None
    assert services.fire_due_timers(now=timezone.now() + timedelta(days=1)) == 0
    inst.refresh_from_db()
    assert inst.status == "completed"


def test_non_interrupting_timer_keeps_the_task(users):
    services.deploy(timer_process(cancel=False), "t.bpmn")
    inst = services.start("timed")
    services.fire_due_timers(now=timezone.now() + timedelta(hours=2))
    assert [t.element_id for t in open_tasks(inst)] == ["review", "urge"]
    services.complete(Task.objects.get(instance=inst, element_id="urge"), users["admin"])
    services.complete(Task.objects.get(instance=inst, element_id="review"), users["approver-scjg"], "approve")
    inst.refresh_from_db()
    assert inst.status == "completed"


def test_working_day_timer(users):
    from tongban.core.calendar import default_calendar
    from tongban.workflow.times import end_of_day

    services.deploy(timer_process(timer="").replace("<bpmn:timerEventDefinition>",
                                                    '<bpmn:timerEventDefinition tongban:workingDays="5">'), "t.bpmn")
    inst = services.start("timed")
    timer = Timer.objects.get(instance=inst)
    assert timer.due_at == end_of_day(default_calendar().add_working_days(timezone.localdate(), 5))


def test_intermediate_timer_and_enqueued_task(users):
    from django_tasks_db.models import DBTaskResult

    xml = bpmn("wait", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:intermediateCatchEvent id="publicity" name="公示期"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>P5D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>",
        '    <bpmn:endEvent id="end"/>',
        chain("start", "publicity", "end"),
    ]))
    services.deploy(xml, "w.bpmn")
    inst = services.start("wait")
    timer = Timer.objects.get(instance=inst)
    queued = DBTaskResult.objects.get(task_path="tongban.workflow.tasks.fire_timer_task")
    assert queued.args_kwargs["args"] == [timer.pk] and queued.run_after == timer.due_at
    assert services.fire_timer(timer.pk, now=timer.due_at) is True
    inst.refresh_from_db()
    assert inst.status == "completed"


def test_terminate_end_event_ends_every_branch(users):
    xml = bpmn("term", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:parallelGateway id="fork"/>',
        user_task("a", outcomes="stop,go"),
        user_task("b", org="yx-xf"),
        '    <bpmn:exclusiveGateway id="gw"/>',
        '    <bpmn:endEvent id="kill"><bpmn:terminateEventDefinition/></bpmn:endEvent>',
        '    <bpmn:endEvent id="e1"/>',
        '    <bpmn:endEvent id="e2"/>',
        flow("f0", "start", "fork"), flow("f1", "fork", "a"), flow("f2", "fork", "b"), flow("f3", "a", "gw"),
        flow("f4", "gw", "kill", "${outcome == 'stop'}"), flow("f5", "gw", "e1", "${outcome == 'go'}"),
        flow("f6", "b", "e2"),
    ]))
    services.deploy(xml, "term.bpmn")
    inst = services.start("term")
    services.complete(Task.objects.get(instance=inst, element_id="a"), users["approver-scjg"], "stop")
    inst.refresh_from_db()
    assert inst.status == "completed"
    assert Task.objects.get(instance=inst, element_id="b").state == "cancelled"


def test_role_changes_are_seen_by_the_same_user_object(users):
    from tongban.core.models import RoleAssignment
    from tongban.core.services import grant_role

    services.deploy(simple(), "s.bpmn")
    inst = services.start("simple")
    [task] = open_tasks(inst)
    xf = users["approver-xf"]
    with pytest.raises(WorkflowError):
        services.claim(task, xf)
    grant_role(xf, "approver", users["approver-scjg"].organisation)
    services.claim(task, xf)  # the answer cached on ``xf`` was dropped by the grant
    services.unclaim(task, xf)
    RoleAssignment.objects.filter(user=xf, organisation=users["approver-scjg"].organisation).delete()
    with pytest.raises(WorkflowError):
        services.complete(task, xf, "approve")


def test_caches_follow_organisation_changes(users):
    from tongban.core.models import Organisation
    from tongban.workflow.lookups import organisation_ref

    org = Organisation.objects.get(code="yx-scjg")
    assert organisation_ref("yx-scjg")[0] == org.pk
    new = Organisation.objects.create(code="yx-new", name="新机构", division=org.division)
    assert organisation_ref("yx-new")[0] == new.pk
    new.delete()
    with pytest.raises(WorkflowError):
        organisation_ref("yx-new")
