"""Workflow write services (流程引擎服务): deploy, start, claim, complete, cancel, clocks, timers.

Every operation on a running instance runs in one transaction that first locks the row of the instance tree's
root (``select_for_update``; SQLite serialises writers with ``BEGIN IMMEDIATE``), so two approvers completing
tasks of one instance — or of two items of one bundle — at the same moment are applied one after the other.
Every state change appends an ``Event`` (actor, time): the event log is the audit trail of engine steps (start,
claim, complete, timers). Actions outside the engine's steps (deploying, cancelling, moving a clock by hand) are
also audited in core.

Errors are ``WorkflowError`` with a stable ``code`` (``workflow.task_not_held``, ``workflow.unknown_outcome``, ...).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tongban.core import store
from tongban.core.models import Organisation, Role, RoleAssignment, User
from tongban.core.selectors import has_role
from tongban.core.services import audit

from . import dmn, expressions, selectors
from .bpmn import DefinitionError, Issue, parse_bpmn
from .engine import (
    DONE,
    OPEN_TASK_STATES,
    WAITING,
    Run,
    WorkflowError,
    _as_int,
    actor_id,
    actor_label,
    calendar_for,
    division_of,
    graph_for,
    latest_definition_id,
    local_date,
    parse_suspensions,
    yellow_share,
)
from .models import (
    DecisionDefinition,
    Event,
    Notification,
    ProcessDefinition,
    ProcessInstance,
    Task,
    Timer,
    Token,
)

__all__ = [
    "DefinitionError", "WorkflowError", "deploy", "deploy_file", "deploy_decisions", "start", "start_by_user", "claim", "unclaim",
    "complete", "add_opinion", "cancel_instance", "set_variables", "suspend_clock", "resume_clock",
    "fire_timer", "fire_due_timers", "run_service_task", "retry_service_task", "check_clocks",
]

RUNNING = ProcessInstance.Status.RUNNING


# ---------------------------------------------------------------------------------------------------------------
# deployment


def _checksum(key: str, data: bytes) -> str:
    return hashlib.sha256(key.encode() + b"\n" + data).hexdigest()


def deploy(source: bytes | str, filename: str = "<string>", actor: User | None = None) -> list[ProcessDefinition]:
    """Deploy every process of a BPMN file. A process whose content is unchanged keeps its latest version;
    otherwise a new version is added (running instances keep theirs). Each returned definition has
    ``created`` set. Raises ``DefinitionError`` (every problem as ``FILE:LINE: element ID: message``)."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    parsed = parse_bpmn(data, filename)
    text = data.decode("utf-8")
    display = text
    if not parsed.has_diagram:
        from .layout import with_diagram

        display = with_diagram(parsed.root, [p.graph for p in parsed.processes])
    result: list[ProcessDefinition] = []
    with transaction.atomic():
        for proc in parsed.processes:
            checksum = _checksum(proc.key, data)
            latest = (ProcessDefinition.objects.select_for_update().filter(key=proc.key)
                      .order_by("-version").first())
            if latest is not None and latest.checksum == checksum:
                latest.created = False
                result.append(latest)
                continue
            definition = ProcessDefinition.objects.create(
                key=proc.key, version=(latest.version + 1) if latest else 1, name=proc.name, bpmn_xml=text,
                display_xml=display, graph=proc.graph, checksum=checksum, source_name=Path(filename).name[:255],
                deployed_by=actor if actor_id(actor) else None,
            )
            definition.created = True
            audit("workflow.process.deploy", actor=actor, obj=definition,
                  detail={"key": definition.key, "version": definition.version, "file": definition.source_name})
            result.append(definition)
    return result


def _read_definition_file(path: str | Path) -> tuple[bytes, str]:
    path = Path(path)
    try:
        return path.read_bytes(), str(path)
    except OSError as exc:
        raise DefinitionError([Issue(0, "-", f"cannot read file: {exc.strerror or exc}")], str(path)) from exc


def deploy_file(path: str | Path, actor: User | None = None) -> list[ProcessDefinition]:
    return deploy(*_read_definition_file(path), actor)


def deploy_decisions(source: bytes | str, filename: str = "<string>",
                     actor: User | None = None) -> list[DecisionDefinition]:
    """Deploy every decision of a DMN file (new version when changed), like ``deploy``."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    tables = dmn.parse_dmn(data, filename)
    text = data.decode("utf-8")
    result: list[DecisionDefinition] = []
    with transaction.atomic():
        for table in tables:
            checksum = _checksum(table["key"], data)
            latest = (DecisionDefinition.objects.select_for_update().filter(key=table["key"])
                      .order_by("-version").first())
            if latest is not None and latest.checksum == checksum:
                latest.created = False
                result.append(latest)
                continue
            definition = DecisionDefinition.objects.create(
                key=table["key"], version=(latest.version + 1) if latest else 1, name=table["name"], dmn_xml=text,
                table=table, checksum=checksum, source_name=Path(filename).name[:255],
                deployed_by=actor if actor_id(actor) else None,
            )
            definition.created = True
            audit("workflow.decision.deploy", actor=actor, obj=definition,
                  detail={"key": definition.key, "version": definition.version, "file": definition.source_name})
            result.append(definition)
    return result


def deploy_decision_file(path: str | Path, actor: User | None = None) -> list[DecisionDefinition]:
    return deploy_decisions(*_read_definition_file(path), actor)


def evaluate_decision(key: str, variables: dict[str, Any]) -> Any:
    """Evaluate the latest version of a deployed decision over ``variables`` (no process needed)."""
    from .engine import decision_table

    try:
        return dmn.evaluate(decision_table(key), variables)
    except dmn.DecisionError as exc:
        raise WorkflowError(str(exc), code=exc.code, status=409) from exc


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _check_variables(variables: Any) -> dict[str, Any]:
    if variables is None:
        return {}
    if not isinstance(variables, dict) or any(not isinstance(k, str) or not k for k in variables):
        raise WorkflowError("流程变量必须是以非空字符串为键的对象（variables must be an "
                                                          "object with string keys）", code="workflow.invalid_variables")
    try:
        json.dumps(variables)
    except (TypeError, ValueError) as exc:
        raise WorkflowError(f"流程变量无法保存为 JSON: {exc}", code="workflow.invalid_variables") from exc
    return variables


def _instance_where() -> str:
    return f"{store.column(ProcessInstance, 'id')} = %s"


def _lock_instance(instance_id: int, root_id: int | None = -1) -> ProcessInstance:
    """Lock the root of the instance tree, then return the (locked) instance. Call inside a transaction."""
    if root_id == -1:
        row = ProcessInstance.objects.filter(pk=instance_id).values_list("root_id", flat=True)
        if not row:
            raise WorkflowError(f"流程实例 {instance_id} 不存在", code="workflow.not_found", status=404)
        root_id = row[0]
    locked = store.select_sql(ProcessInstance, _instance_where(), lock=True)
    queries = []
    if root_id and root_id != instance_id:
        queries.append((ProcessInstance, locked, [root_id]))
    queries.append((ProcessInstance, locked, [instance_id]))
    found = store.read(queries)[-1]
    if not found:
        raise WorkflowError(f"流程实例 {instance_id} 不存在", code="workflow.not_found", status=404)
    return found[0]


def _task_id(task: Task | int) -> int:
    return task.pk if isinstance(task, Task) else int(task)


@cache
def _task_read_sql() -> tuple[str, str, str]:
    """The statements of ``_lock_task``, built once: the root's lock, the task with its instance, live tokens."""
    task_t, inst_t, tok_t = store.table(Task), store.table(ProcessInstance), store.table(Token)
    t_id, t_inst = store.column(Task, "id"), store.column(Task, "instance")
    i_id, i_root = store.column(ProcessInstance, "id"), store.column(ProcessInstance, "root")
    lock = (f"SELECT 1 FROM {inst_t} WHERE {i_id} = (SELECT COALESCE(i.{i_root}, i.{i_id}) FROM {task_t} t "
            f"JOIN {inst_t} i ON i.{i_id} = t.{t_inst} WHERE t.{t_id} = %s) FOR UPDATE")
    pair = (f"SELECT {store.columns(Task, 't')}, {store.columns(ProcessInstance, 'i')} FROM {task_t} t "
            f"JOIN {inst_t} i ON i.{i_id} = t.{t_inst} WHERE t.{t_id} = %s")
    tokens = (f"SELECT {store.columns(Token)} FROM {tok_t} WHERE {store.column(Token, 'instance')} = "
              f"(SELECT {t_inst} FROM {task_t} WHERE {t_id} = %s) AND {store.column(Token, 'state')} <> %s")
    return lock, pair, tokens


def _lock_task(task: Task | int, with_tokens: bool = False) -> Task:
    """Lock the instance tree of a task (the root's row; SQLite's ``BEGIN IMMEDIATE`` already serialises
    writers) and read the task with its instance fresh — and, with ``with_tokens``, the instance's live tokens as
    ``task.live_tokens`` — in one round trip."""
    task_id = _task_id(task)
    lock, pair, tokens = _task_read_sql()
    queries: list[tuple[Any, str, list[Any]]] = []
    if store.is_postgresql():  # the root first (a child's step must not hold the child while waiting for the root)
        queries.append((None, lock, [task_id]))
    queries.append(((Task, ProcessInstance), pair, [task_id]))
    if with_tokens:
        queries.append((Token, tokens, [task_id, DONE]))
    results = store.read(queries)
    pairs = results[1] if store.is_postgresql() else results[0]
    if not pairs:
        raise WorkflowError(f"任务 {task_id} 不存在", code="workflow.not_found", status=404)
    fresh, instance = pairs[0]
    fresh._state.fields_cache["instance"] = instance  # (the row's instance_id is this instance)
    fresh.live_tokens = results[-1] if with_tokens else None
    return fresh


def is_candidate(task: Task, user: User) -> bool:
    """Whether ``user`` holds the task's candidate role in its candidate organisation. The answer is kept on the
    user object for its lifetime (one request), like Django's own permission cache."""
    if not task.candidate_role:
        return bool(user.is_superuser)
    from .engine import ROLE_GENERATION

    cache = user.__dict__.get("_tongban_role_cache")
    if cache is None or cache.get("generation") != ROLE_GENERATION[0]:
        cache = user.__dict__["_tongban_role_cache"] = {"generation": ROLE_GENERATION[0]}
    key = (task.candidate_role, task.candidate_org_id)
    if key not in cache:
        org = Organisation(pk=task.candidate_org_id) if task.candidate_org_id else None
        cache[key] = has_role(user, task.candidate_role, org)
    return cache[key]


def _require_open(task: Task) -> None:
    if task.state not in OPEN_TASK_STATES:
        raise WorkflowError(f"任务「{task.name}」已{task.get_state_display()}，不能再办理", code="workflow.task_not_open", status=409, detail={"state": task.state})
    if task.instance.status != RUNNING:
        raise WorkflowError("流程实例已结束", code="workflow.instance_not_running", status=409)


def _require_candidate(task: Task, user: User | None) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise WorkflowError("请先登录", code="workflow.not_authenticated", status=401)
    if not is_candidate(task, user):
        org = Organisation.objects.filter(pk=task.candidate_org_id).values_list("name", flat=True).first() or "-"
        raise WorkflowError(f"您不是「{org}」的{task.candidate_role}，不能办理任务「{task.name}」"
                            f"（user lacks role {task.candidate_role} in the candidate organisation）", code="workflow.not_candidate", status=403)


def _require_holder(task: Task, user: User | None) -> None:
    """The user may act on the task: it is theirs, or it is unclaimed and they are a candidate."""
    _require_candidate(task, user)
    if task.assignee_id and task.assignee_id != user.pk:
        raise WorkflowError(f"任务「{task.name}」由他人办理中，您未认领此任务（task is claimed by another user）", code="workflow.task_not_held", status=403, detail={"assignee": task.assignee_id})


def _drive(run: Run) -> None:
    """Write a run, then do what it queued: spawn call-activity children, resume parents of ended children."""
    run.flush()
    _after_flush(run)
    follow_ups, run.follow_ups = run.follow_ups, []
    for fu in follow_ups:
        if fu.kind == "spawn":
            _spawn_children(run, fu.data["token"])
        elif fu.kind == "child_ended":
            _child_ended(fu.data["parent_id"], fu.data["token_id"], run.actor, run.now)


def _after_flush(run: Run) -> None:
    from . import tasks

    if run.enqueue_timers:
        for timer in run.enqueue_timers:
            tasks.enqueue_timer(timer)
        run.enqueue_timers = []
    if run.enqueue_services:
        for tok in run.enqueue_services:
            tasks.enqueue_service(tok)
        run.enqueue_services = []
    if run.cancel_children_of:
        ids = list(ProcessInstance.objects.filter(parent_token_id__in=run.cancel_children_of, status=RUNNING)
                   .values_list("pk", flat=True))
        run.cancel_children_of = []
        _cancel_tree(ids, run.actor, run.now, reason="父流程环节已中断（parent activity interrupted）")


def _spawn_children(parent_run: Run, token: Token) -> None:
    """Start the child process(es) of a call activity: one per element of ``tongban:collection`` (parallel)."""
    inst = parent_run.instance
    node = parent_run.elements[token.element_id]
    eid = token.element_id
    variables = parent_run.variables
    if node.get("collection"):
        try:
            items = expressions.evaluate(node["collection"], variables)
        except expressions.ExpressionError as exc:
            raise WorkflowError(f"{eid} collection: {exc}", code="workflow.expression_failed", status=409) from exc
        if items is None:
            items = []
        if not isinstance(items, list):
            raise WorkflowError(f"{eid}: collection {node['collection']} 不是列表", code="workflow.invalid_value", status=409)
        multi = True
    else:
        items = [None]
        multi = False
    coll_name = node["collection"].strip() if multi and node["collection"].strip().isidentifier() else None
    base = {k: v for k, v in variables.items() if k != coll_name}
    children: list[ProcessInstance] = []
    for index, item in enumerate(items):
        extra = {node["element_variable"]: item, "loop_index": index} if multi else {}
        child_vars = {**base, **extra}
        called = parent_run._value(node["called_element"], "calledElement", eid, extra)
        if not called:
            raise WorkflowError(f"{eid}: calledElement 为空", code="workflow.process_not_found", status=409)
        def_id = latest_definition_id(str(called))
        bk = inst.business_key
        if node.get("business_key"):
            bk = str(parent_run._value(node["business_key"], "businessKey", eid, extra) or bk)
        elif multi:
            bk = f"{inst.business_key}/{index + 1}" if inst.business_key else str(index + 1)
        children.append(ProcessInstance(
            definition_id=def_id, process_key=str(called), business_key=bk[:100], variables=child_vars,
            parent_id=inst.pk, parent_token_id=token.pk, parent_index=index, root_id=inst.root_id or inst.pk,
            started_by_id=inst.started_by_id, started_at=parent_run.now,
        ))
        _init_case_clock(children[-1], graph_for(def_id), parent_run.today)
    Event.objects.create(instance_id=inst.pk, element_id=eid, type="element.started", actor_id=parent_run.actor_id,
                         actor_label=parent_run.actor_label, at=parent_run.now,
                         data={"type": "callActivity", "children": len(children),
                               "called": sorted({c.process_key for c in children})})
    if not children:
        run = Run.load(ProcessInstance.objects.get(pk=inst.pk), parent_run.actor, parent_run.now)
        tok = run.tokens[token.pk]
        run.variables[node["result_variable"]] = []
        run.continue_from(tok, children=0)
        _drive(run)
        return
    ProcessInstance.objects.bulk_create(children)
    for child in children:
        run = Run(child, [], parent_run.actor, parent_run.now)
        run.start()
        _drive(run)


def _child_ended(parent_id: int, token_id: int | None, actor: Any, now: datetime) -> None:
    """A child of a call activity ended: when all siblings have, the parent continues with their results."""
    if token_id is None:
        return
    parent = ProcessInstance.objects.get(pk=parent_id)
    if parent.status != RUNNING:
        return
    statuses = list(ProcessInstance.objects.filter(parent_token_id=token_id).values_list("status", flat=True))
    if not statuses or RUNNING in statuses:
        return
    run = Run.load(parent, actor, now)
    tok = run.tokens.get(token_id)
    if tok is None or tok.state != WAITING:
        return
    node = run.elements[tok.element_id]
    rows = list(ProcessInstance.objects.filter(parent_token_id=token_id).order_by("parent_index")
                .values("pk", "business_key", "status", "process_key", "variables"))
    results = [{"instance": r["pk"], "process": r["process_key"], "business_key": r["business_key"],
                "status": r["status"], "variables": r["variables"]} for r in rows]
    run.variables[node["result_variable"]] = results if node.get("collection") else results[0]
    run.continue_from(tok, children=len(results),
                      completed=sum(1 for r in results if r["status"] == ProcessInstance.Status.COMPLETED))
    _drive(run)


def _cancel_tree(instance_ids: Iterable[int], actor: Any, now: datetime, reason: str = "") -> list[int]:
    """Cancel running instances and all their running descendants (tasks, timers, tokens)."""
    ids = set(instance_ids)
    frontier = set(ids)
    while frontier:
        frontier = set(ProcessInstance.objects.filter(parent_id__in=frontier, status=RUNNING)
                       .values_list("pk", flat=True)) - ids
        ids |= frontier
    ids = set(ProcessInstance.objects.filter(pk__in=ids, status=RUNNING).values_list("pk", flat=True))
    if not ids:
        return []
    ProcessInstance.objects.filter(pk__in=ids).update(status=ProcessInstance.Status.CANCELLED, ended_at=now,
                                                       suspended_since=None)
    Task.objects.filter(instance_id__in=ids, state__in=OPEN_TASK_STATES).update(state=Task.State.CANCELLED,
                                                                                completed_at=now)
    Timer.objects.filter(instance_id__in=ids, fired_at=None, cancelled_at=None).update(cancelled_at=now)
    Token.objects.filter(instance_id__in=ids).exclude(state=DONE).update(state=DONE, ended_at=now)
    Event.objects.bulk_create([
        Event(instance_id=i, type="instance.cancelled", actor_id=actor_id(actor), actor_label=actor_label(actor),
              at=now, data={"reason": reason}) for i in sorted(ids)
    ])
    return sorted(ids)


def _init_case_clock(inst: ProcessInstance, graph: dict[str, Any], today: date,
                     limit_days: int | None = None, statutory_limit_days: int | None = None) -> None:
    """The case clock (办件时限): promised limit from the argument, the ``promised_limit_days``/``limit_days``
    variable or the process's ``tongban:limitDays``; statutory likewise (``statutory_limit_days``)."""
    from .clock import due_date, light_for

    v = inst.variables

    def pick(explicit: int | None, names: tuple[str, ...], attr: str | None) -> int | None:
        if explicit is not None:
            return _as_int(explicit, names[0])
        for n in names:
            if v.get(n) not in (None, ""):
                return _as_int(v[n], n)
        if attr:
            value = expressions.resolve(attr, v)
            if value not in (None, ""):
                return _as_int(value, "tongban:limitDays")
        return None

    inst.limit_days = pick(limit_days, ("promised_limit_days", "limit_days"), graph.get("limit_days"))
    inst.statutory_limit_days = pick(statutory_limit_days, ("statutory_limit_days",),
                                     graph.get("statutory_limit_days"))
    if inst.limit_days is None and inst.statutory_limit_days is not None:
        inst.limit_days = inst.statutory_limit_days
    if inst.limit_days is not None:
        cal = calendar_for(None)
        inst.started_on = today
        inst.due_on = due_date(cal, today, inst.limit_days)
        if inst.statutory_limit_days is not None:
            inst.statutory_due_on = due_date(cal, today, inst.statutory_limit_days)
        inst.light = light_for(0, inst.limit_days, yellow_share())


# ---------------------------------------------------------------------------------------------------------------
# instances


def start(key: str, business_key: str = "", variables: dict[str, Any] | None = None, actor: User | None = None,
          *, limit_days: int | None = None, statutory_limit_days: int | None = None) -> ProcessInstance:
    """Start the latest version of process ``key``. Runs until every path waits (user task, timer, ...).
    The returned instance carries ``created_tasks``: the user tasks the start opened."""
    variables = dict(_check_variables(variables))
    if not isinstance(business_key, str) or len(business_key) > 100:
        raise WorkflowError("业务标识须为不超过100个字符的字符串", code="workflow.invalid_business_key")
    def_id = latest_definition_id(key)
    graph = graph_for(def_id)
    now = timezone.now()
    with transaction.atomic():
        inst = store.new(ProcessInstance, definition_id=def_id, process_key=key, business_key=business_key,
                         variables=variables, started_by_id=actor_id(actor), started_at=now)
        today = local_date(now)
        _init_case_clock(inst, graph, today, limit_days, statutory_limit_days)
        store.insert(ProcessInstance, [inst])
        before = dict(variables)
        run = Run(inst, [], actor, now, today)
        run.instance_dirty = set()
        run.start()
        if run.variables != before:
            run.instance_dirty.add("variables")
        _drive(run)
    inst.created_tasks = [t for t in run.created_tasks if t.state in OPEN_TASK_STATES]
    return inst


def start_by_user(key: str, user: User, business_key: str = "", variables: dict[str, Any] | None = None
                  ) -> ProcessInstance:
    """A staff member starts process ``key`` by hand (the API): only whom the definition's starters allow
    (``selectors.may_start``), else ``workflow.not_starter`` (403). The platform starting a process for a case
    (an accepted application, a grant request) calls ``start`` and is not checked here."""
    graph = graph_for(latest_definition_id(key))
    if not selectors.may_start(user, graph):
        raise WorkflowError(f"您无权启动流程 {key}（not a starter of this process）", code="workflow.not_starter",
                            status=403, detail={"key": key})
    with transaction.atomic():
        inst = start(key, business_key, variables, user)
        audit("workflow.instance.start", actor=user, obj=inst, detail={"key": key, "business_key": business_key})
    return inst


def set_variables(instance: ProcessInstance | int, variables: dict[str, Any], actor: User | None = None) -> None:
    variables = _check_variables(variables)
    pk = instance.pk if isinstance(instance, ProcessInstance) else int(instance)
    with transaction.atomic():
        inst = _lock_instance(pk)
        if inst.status != RUNNING:
            raise WorkflowError("流程实例已结束", code="workflow.instance_not_running", status=409)
        inst.variables.update(variables)
        inst.save(update_fields=["variables"])
        Event.objects.create(instance=inst, type="variables.set", actor_id=actor_id(actor),
                             actor_label=actor_label(actor), data={"names": sorted(variables)})


def cancel_instance(instance: ProcessInstance | int, actor: User | None = None, reason: str = "") -> ProcessInstance:
    """Cancel a running instance with its children. A cancelled child of a call activity counts as ended."""
    pk = instance.pk if isinstance(instance, ProcessInstance) else int(instance)
    now = timezone.now()
    with transaction.atomic():
        inst = _lock_instance(pk)
        if inst.status != RUNNING:
            raise WorkflowError("流程实例已结束，不能撤销", code="workflow.instance_not_running", status=409)
        _cancel_tree([inst.pk], actor, now, reason=reason)
        if actor_id(actor):
            audit("workflow.instance.cancel", actor=actor, obj=inst, reason=reason)
        if inst.parent_id:
            _child_ended(inst.parent_id, inst.parent_token_id, actor, now)
        inst.refresh_from_db()
    return inst


# ---------------------------------------------------------------------------------------------------------------
# tasks


def claim(task: Task | int, user: User) -> Task:
    """Take a task (认领): the user must hold the candidate role in the candidate organisation."""
    now = timezone.now()
    with transaction.atomic():
        t = _lock_task(task)
        _require_open(t)
        _require_candidate(t, user)
        if t.assignee_id == user.pk:
            return t
        if t.assignee_id:
            raise WorkflowError(f"任务「{t.name}」已被他人认领", code="workflow.task_already_claimed", status=409)
        t.assignee = user
        t.state = Task.State.CLAIMED
        t.claimed_at = now
        t.save(update_fields=["assignee", "state", "claimed_at"])
        Event.objects.create(instance_id=t.instance_id, element_id=t.element_id, type="task.claimed", task=t,
                             actor=user, actor_label=actor_label(user), at=now)
    return t


def unclaim(task: Task | int, user: User) -> Task:
    """Give a claimed task back to the candidate pool (the holder, or a superuser)."""
    now = timezone.now()
    with transaction.atomic():
        t = _lock_task(task)
        _require_open(t)
        if t.assignee_id is None:
            return t
        if t.assignee_id != user.pk and not user.is_superuser:
            raise WorkflowError(f"您未认领任务「{t.name}」", code="workflow.task_not_held", status=403)
        t.assignee = None
        t.state = Task.State.OPEN
        t.claimed_at = None
        t.save(update_fields=["assignee", "state", "claimed_at"])
        Event.objects.create(instance_id=t.instance_id, element_id=t.element_id, type="task.unclaimed", task=t,
                             actor=user, actor_label=actor_label(user), at=now)
    return t


def complete(task: Task | int, user: User | None, outcome: str | None = None,
             variables: dict[str, Any] | None = None, opinion: str = "", *,
             check_permissions: bool = True) -> Task:
    """Complete a user task with an outcome (办理/审批). The user must hold the task (claimed by them, or
    unclaimed and a candidate); the outcome must be one the task declares (``tongban:outcomes``). The outcome is
    stored as variables ``outcome`` and ``<taskId>_outcome``; ``variables`` are merged into the instance."""
    variables = _check_variables(variables)
    outcome = (outcome or "").strip()
    opinion = (opinion or "").strip()
    now = timezone.now()
    with transaction.atomic():
        t = _lock_task(task, with_tokens=True)
        _require_open(t)
        if check_permissions:
            _require_holder(t, user)
        if t.outcomes:
            if not outcome:
                raise WorkflowError(f"请选择办理结果：{'、'.join(t.outcomes)}（outcome required）", code="workflow.outcome_required", status=400, detail={"allowed": t.outcomes})
            if outcome not in t.outcomes:
                raise WorkflowError(f"办理结果 {outcome!r} 不在可选范围 {', '.join(t.outcomes)} 内（unknown outcome）", code="workflow.unknown_outcome", status=400, detail={"allowed": t.outcomes})
        t.state = Task.State.COMPLETED
        t.outcome = outcome[:40]
        t.completed_at = now
        fields = ["state", "outcome", "completed_at"]
        if opinion:
            t.opinion = opinion
            t.opinions = [*t.opinions, {"user": actor_label(user), "at": now.isoformat(), "text": opinion,
                                        "outcome": outcome}]
            fields += ["opinion", "opinions"]
        if user is not None and actor_id(user) and not t.assignee_id:
            t.assignee_id = user.pk
            t._state.fields_cache["assignee"] = user
            t.claimed_at = now
            fields += ["assignee", "claimed_at"]
        today = local_date(now)
        if t.limit_days is not None and t.started_on:
            cal = calendar_for(division_of(t.candidate_org_id))
            t.light = _light_on(cal, t.started_on, t.limit_days, today, _suspension_key(t.suspensions), yellow_share())
            fields.append("light")
            if t.suspended_since:
                t.suspended_since = None
                fields.append("suspended_since")
        run = Run(t.instance, t.live_tokens, user, now, today)
        run.task_updates.append((t, tuple(fields)))
        run.variables.update(variables)
        if outcome:
            run.variables["outcome"] = outcome
            run.variables[f"{t.element_id}_outcome"] = outcome
        run.complete_task(t, outcome, opinion)
        _drive(run)
    return t


def _suspension_key(items: list[dict[str, Any]]) -> tuple[tuple[str, str | None, str], ...]:
    return tuple((s["start"], s.get("end"), s.get("reason", "")) for s in items or ())


@lru_cache(maxsize=4096)
def _light_on(cal: Any, started_on: date, limit_days: int, on: date,
              suspensions: tuple[tuple[str, str | None, str], ...], share: float) -> str:
    """The light of a clock on a day (many tasks share start day and limit: computed once per calendar)."""
    from .clock import clock_status

    items = [{"start": a, "end": b, "reason": r} for a, b, r in suspensions]
    return clock_status(cal, started_on, limit_days, on, parse_suspensions(items), share).light


def add_opinion(task: Task | int, user: User, text: str) -> Task:
    """Add an opinion (审批意见) to an open task, e.g. during a joint review."""
    text = (text or "").strip()
    if not text:
        raise WorkflowError("意见不能为空", code="workflow.empty_opinion")
    now = timezone.now()
    with transaction.atomic():
        t = _lock_task(task)
        _require_open(t)
        _require_candidate(t, user)
        t.opinions = [*t.opinions, {"user": actor_label(user), "at": now.isoformat(), "text": text[:2000]}]
        t.save(update_fields=["opinions"])
        Event.objects.create(instance_id=t.instance_id, element_id=t.element_id, type="task.opinion", task=t,
                             actor=user, actor_label=actor_label(user), at=now, data={"text": text[:2000]})
    return t


# ---------------------------------------------------------------------------------------------------------------
# the statutory clock: suspension (中止 / 特殊环节) and the periodic check


def _suspend(obj: Task | ProcessInstance, on: date, reason: str) -> bool:
    if obj.limit_days is None or obj.suspended_since is not None:
        return False
    obj.suspended_since = on
    obj.suspensions = [*obj.suspensions, {"start": on.isoformat(), "end": None, "reason": reason}]
    return True


def _resume(obj: Task | ProcessInstance, on: date, cal: Any) -> bool:
    from .clock import due_date

    if obj.suspended_since is None:
        return False
    sus = [dict(s) for s in obj.suspensions]
    if sus and sus[-1].get("end") is None:
        sus[-1]["end"] = max(on, date.fromisoformat(sus[-1]["start"])).isoformat()
        start = date.fromisoformat(sus[-1]["start"])
        if isinstance(obj, Task):
            obj.suspended_days += cal.working_days_between(start - timedelta(days=1),
                                                           date.fromisoformat(sus[-1]["end"]))
    obj.suspensions = sus
    obj.suspended_since = None
    if obj.limit_days is not None and obj.started_on:
        obj.due_on = due_date(cal, obj.started_on, obj.limit_days, parse_suspensions(sus), on=on)
        if isinstance(obj, ProcessInstance) and obj.statutory_limit_days is not None:
            obj.statutory_due_on = due_date(cal, obj.started_on, obj.statutory_limit_days, parse_suspensions(sus),
                                            on=on)
    return True


_CLOCK_FIELDS_TASK = ["suspended_since", "suspensions", "suspended_days", "due_on"]
_CLOCK_FIELDS_INSTANCE = ["suspended_since", "suspensions", "due_on", "statutory_due_on"]


def suspend_clock(target: Task | ProcessInstance, actor: User | None, reason: str, on: date | None = None, *,
                  check_permissions: bool = True) -> None:
    """Stop the clock (中止计时) for 补正材料/专家评审/听证/公示...: the working days of the suspension (from ``on``,
    default today, to the day it is resumed, both included) do not count. On a task, its case clock stops
    too; on an instance, every open task with a clock stops as well."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("请填写中止原因（如 补正材料、专家评审、听证、公示）", code="workflow.reason_required")
    on = on or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        if isinstance(target, Task):
            t = _lock_task(target)
            _require_open(t)
            if check_permissions:
                _require_holder(t, actor)
            if t.limit_days is None:
                raise WorkflowError(f"任务「{t.name}」没有时限", code="workflow.no_clock", status=409)
            if not _suspend(t, on, reason):
                raise WorkflowError("计时已中止", code="workflow.clock_already_suspended", status=409)
            t.save(update_fields=_CLOCK_FIELDS_TASK)
            inst = t.instance
            tasks = [t]
        else:
            inst = _lock_instance(target.pk)
            if inst.status != RUNNING:
                raise WorkflowError("流程实例已结束", code="workflow.instance_not_running", status=409)
            if inst.limit_days is None and not Task.objects.filter(instance=inst, state__in=OPEN_TASK_STATES,
                                                                   limit_days__isnull=False).exists():
                raise WorkflowError("该流程实例没有时限", code="workflow.no_clock", status=409)
            if inst.suspended_since is not None:
                raise WorkflowError("计时已中止", code="workflow.clock_already_suspended", status=409)
            tasks = list(Task.objects.filter(instance=inst, state__in=OPEN_TASK_STATES, limit_days__isnull=False,
                                             suspended_since__isnull=True))
            for t in tasks:
                _suspend(t, on, reason)
            if tasks:
                Task.objects.bulk_update(tasks, _CLOCK_FIELDS_TASK)
        if _suspend(inst, on, reason):
            inst.save(update_fields=_CLOCK_FIELDS_INSTANCE)
        for t in tasks:
            Event.objects.create(instance=inst, element_id=t.element_id, type="clock.suspended", task=t,
                                 actor_id=actor_id(actor), actor_label=actor_label(actor), at=now,
                                 data={"reason": reason, "on": on.isoformat()})
        if not tasks:
            Event.objects.create(instance=inst, type="clock.suspended", actor_id=actor_id(actor),
                                 actor_label=actor_label(actor), at=now, data={"reason": reason, "on": on.isoformat()})
        if actor_id(actor):
            audit("workflow.clock.suspend", actor=actor, obj=target, reason=reason, detail={"on": on.isoformat()})


def resume_clock(target: Task | ProcessInstance, actor: User | None, on: date | None = None, *,
                 check_permissions: bool = True) -> None:
    """Restart a suspended clock (恢复计时); the due date moves out by the suspended working days."""
    on = on or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        if isinstance(target, Task):
            t = _lock_task(target)
            _require_open(t)
            if check_permissions:
                _require_holder(t, actor)
            if t.suspended_since is None:
                raise WorkflowError("计时未中止", code="workflow.clock_not_suspended", status=409)
            _resume(t, on, calendar_for(division_of(t.candidate_org_id)))
            t.save(update_fields=_CLOCK_FIELDS_TASK)
            inst = t.instance
            tasks = [t]
        else:
            inst = _lock_instance(target.pk)
            if inst.suspended_since is None:
                raise WorkflowError("计时未中止", code="workflow.clock_not_suspended", status=409)
            tasks = list(Task.objects.filter(instance=inst, state__in=OPEN_TASK_STATES,
                                             suspended_since__isnull=False))
            for t in tasks:
                _resume(t, on, calendar_for(division_of(t.candidate_org_id)))
            if tasks:
                Task.objects.bulk_update(tasks, _CLOCK_FIELDS_TASK)
        if _resume(inst, on, calendar_for(None)):
            inst.save(update_fields=_CLOCK_FIELDS_INSTANCE)
        for t in tasks or [None]:
            Event.objects.create(instance=inst, element_id=t.element_id if t else "", type="clock.resumed", task=t,
                                 actor_id=actor_id(actor), actor_label=actor_label(actor), at=now,
                                 data={"on": on.isoformat()})
        if actor_id(actor):
            audit("workflow.clock.resume", actor=actor, obj=target, detail={"on": on.isoformat()})


def escalation_recipients(org_id: int | None, role_code: str) -> list[User]:
    """Users holding ``role_code`` in the organisation or any organisation above it; if nobody does, the
    administrators along the same chain."""
    chain: list[int] = []
    current = org_id
    while current is not None and current not in chain:
        chain.append(current)
        current = Organisation.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    for code in (role_code, Role.ADMINISTRATOR):
        user_ids = set(RoleAssignment.objects.filter(role__code=code, organisation_id__in=chain)
                       .values_list("user_id", flat=True))
        if user_ids:
            return list(User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk"))
    return []


def _escalate(task: Task, now: datetime, status: Any) -> int:
    from django.conf import settings

    role = task.escalate_role or getattr(settings, "TONGBAN_CLOCK_ESCALATION_ROLE", Role.SUPERVISOR)
    # exactly once, even with two checkers running: only the one whose UPDATE matches escalates
    if not Task.objects.filter(pk=task.pk, escalated_at__isnull=True).update(escalated_at=now):
        return 0
    recipients = escalation_recipients(task.candidate_org_id, role)
    org_name = task.candidate_org.name if task.candidate_org_id else ""
    subject = f"督办：{org_name}「{task.name}」已超期 {-status.remaining} 个工作日"[:200]
    Notification.objects.bulk_create([
        Notification(recipient=u, kind="escalation", task=task, created_at=now, subject=subject,
                     body=f"流程 {task.instance.process_key} · {task.instance.business_key} · 到期日 {status.due}")
        for u in recipients
    ])
    Event.objects.create(instance_id=task.instance_id, element_id=task.element_id, type="task.escalated", task=task,
                         at=now, actor_label="system",
                         data={"role": role, "recipients": [u.username for u in recipients],
                               "due": status.due.isoformat(), "overdue_days": -status.remaining})
    return 1


def check_clocks(today: date | None = None) -> dict[str, int]:
    """The periodic clock check (时限监控): refresh lights and due dates of open tasks and running instances;
    escalate newly overdue tasks to the supervising role (``tongban:escalateRole`` or the setting
    ``TONGBAN_CLOCK_ESCALATION_ROLE``, default supervisor) once, with an event and notifications."""
    from .clock import clock_status

    today = today or timezone.localdate()
    now = timezone.now()
    share = yellow_share()
    counts = {"tasks": 0, "changed": 0, "escalated": 0, "instances": 0}
    tasks = (Task.objects.filter(state__in=OPEN_TASK_STATES, limit_days__isnull=False, started_on__isnull=False)
             .select_related("candidate_org", "instance").order_by("pk"))
    changed: list[Task] = []
    for task in tasks.iterator(chunk_size=500):
        counts["tasks"] += 1
        cal = calendar_for(task.candidate_org.division_id if task.candidate_org_id else None)
        status = clock_status(cal, task.started_on, task.limit_days, today, parse_suspensions(task.suspensions),
                              share)
        if status.light != task.light or status.due != task.due_on:
            if status.light != task.light and status.light in ("yellow", "red"):
                Event.objects.create(instance_id=task.instance_id, element_id=task.element_id, type="clock.light",
                                     task=task, at=now, actor_label="system",
                                     data={"light": status.light, "was": task.light, "remaining": status.remaining})
            task.light = status.light
            task.due_on = status.due
            changed.append(task)
        if status.light == "red" and task.escalated_at is None and not status.suspended:
            counts["escalated"] += _escalate(task, now, status)
    if changed:
        Task.objects.bulk_update(changed, ["light", "due_on"], batch_size=500)
    counts["changed"] = len(changed)
    cal = calendar_for(None)
    instances = ProcessInstance.objects.filter(status=RUNNING, limit_days__isnull=False, started_on__isnull=False)
    inst_changed = []
    for inst in instances.iterator(chunk_size=500):
        counts["instances"] += 1
        status = clock_status(cal, inst.started_on, inst.limit_days, today, parse_suspensions(inst.suspensions),
                              share)
        if status.light != inst.light or status.due != inst.due_on:
            inst.light = status.light
            inst.due_on = status.due
            inst_changed.append(inst)
    if inst_changed:
        ProcessInstance.objects.bulk_update(inst_changed, ["light", "due_on"], batch_size=500)
    return counts


def mark_notification_read(notification: Notification, user: User) -> None:
    if notification.recipient_id != user.pk:
        raise WorkflowError("通知不存在", code="workflow.not_found", status=404)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])


# ---------------------------------------------------------------------------------------------------------------
# timers and service tasks (run by the background worker)


def fire_timer(timer_id: int, now: datetime | None = None) -> bool:
    """Fire one due timer, exactly once: the timer row is locked and ``fired_at`` checked inside the transaction
    that also moves the process on. Returns whether this call fired it."""
    now = now or timezone.now()
    row = Timer.objects.filter(pk=timer_id).values_list("instance_id", "instance__root_id").first()
    if row is None:
        return False
    with transaction.atomic():
        inst = _lock_instance(row[0], row[1])
        try:
            timer = Timer.objects.select_for_update().get(pk=timer_id)
        except Timer.DoesNotExist:
            return False
        if timer.fired_at is not None or timer.cancelled_at is not None or timer.due_at > now:
            return False
        timer.fired_at = now
        timer.save(update_fields=["fired_at"])
        if inst.status != RUNNING:
            return False
        run = Run.load(inst, None, now)
        fired = run.fire(timer)
        _drive(run)
        return fired


def fire_due_timers(now: datetime | None = None, limit: int = 1000) -> int:
    """Fire every due timer (a sweep that backs up the per-timer tasks). Returns how many this call fired."""
    now = now or timezone.now()
    ids = list(Timer.objects.filter(fired_at__isnull=True, cancelled_at__isnull=True, due_at__lte=now)
               .order_by("due_at").values_list("pk", flat=True)[:limit])
    fired = 0
    for pk in ids:
        try:
            fired += bool(fire_timer(pk, now))
        except WorkflowError as exc:
            _record_incident_for_timer(pk, exc)
    return fired


def resend_stale_service_tasks(now: datetime | None = None, older_than: timedelta = timedelta(minutes=5),
                               limit: int = 1000) -> int:
    """Enqueue again the service tasks still pending after ``older_than`` (a message lost between commit and
    the broker, a crashed worker). Safe to repeat: ``run_service_task`` runs a token's handler only while
    the token still waits for it. Returns how many were sent."""
    from . import tasks as bg

    now = now or timezone.now()
    cutoff = (now - older_than).isoformat()
    stale = [t for t in Token.objects.filter(state=WAITING, data__service="pending").order_by("pk")[:limit]
             if str(t.data.get("since", "")) < cutoff]
    for token in stale:
        bg.enqueue_service(token)
    return len(stale)


def _record_incident_for_timer(timer_id: int, exc: WorkflowError) -> None:
    timer = Timer.objects.filter(pk=timer_id).first()
    if timer is None:
        return
    with transaction.atomic():
        ProcessInstance.objects.filter(pk=timer.instance_id).update(incident=f"{timer.element_id}: {exc}"[:300])
        Timer.objects.filter(pk=timer_id).update(fired_at=timezone.now())
        Event.objects.create(instance_id=timer.instance_id, element_id=timer.element_id, type="timer.failed",
                             actor_label="system", data={"code": exc.code, "error": str(exc)[:300]})


def run_service_task(token_id: int) -> bool:
    """Run the handler of a service task whose token waits for it (the worker calls this)."""
    row = Token.objects.filter(pk=token_id).values_list("instance_id", "instance__root_id").first()
    if row is None:
        return False
    with transaction.atomic():
        inst = _lock_instance(row[0], row[1])
        if inst.status != RUNNING:
            return False
        run = Run.load(inst)
        tok = run.tokens.get(token_id)
        if tok is None or tok.state != WAITING or tok.data.get("service") != "pending":
            return False
        if run.elements[tok.element_id]["type"] != "serviceTask":
            return False
        ok = run.run_service(tok)
        _drive(run)
        return ok


def retry_service_task(instance: ProcessInstance | int, actor: User | None = None) -> int:
    """Retry the failed service tasks of an instance (after fixing the cause). Returns how many were queued."""
    from . import tasks as bg

    pk = instance.pk if isinstance(instance, ProcessInstance) else int(instance)
    with transaction.atomic():
        inst = _lock_instance(pk)
        failed = [t for t in Token.objects.filter(instance=inst, state=WAITING) if t.data.get("service") == "failed"]
        for t in failed:
            t.data = {**t.data, "service": "pending"}
            t.data.pop("error", None)
            t.save(update_fields=["data"])
            Event.objects.create(instance=inst, element_id=t.element_id, type="service.retried",
                                 actor_id=actor_id(actor), actor_label=actor_label(actor))
        if failed:
            inst.incident = ""
            inst.save(update_fields=["incident"])
        for t in failed:
            bg.enqueue_service(t)
    return len(failed)


def overdue_filter(today: date | None = None) -> Q:
    today = today or timezone.localdate()
    return Q(state__in=OPEN_TASK_STATES, due_on__lt=today, suspended_since__isnull=True)
