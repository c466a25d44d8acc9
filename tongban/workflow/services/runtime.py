"""Running processes (流程运行): start, variables, cancel; claim, unclaim, complete, opinions; and what follows a
step (``_drive``): call-activity children spawned, parents resumed when their children end, background work
queued after the commit."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tongban.core import store
from tongban.core.models import User
from tongban.core.services import audit

from .. import expressions, selectors
from ..config import DONE, OPEN_TASK_STATES, WAITING, yellow_share
from ..engine import Run
from ..errors import WorkflowError
from ..lookups import actor_id, actor_label, calendar_for, division_of, graph_for, latest_definition_id
from ..models import Event, ProcessInstance, Task, Timer, Token
from ..times import as_int, local_date, parse_suspensions
from .locks import (
    RUNNING,
    _check_variables,
    _lock_instance,
    _lock_task,
    _require_candidate,
    _require_holder,
    _require_open,
)


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
    from .. import tasks

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
    parent_run.started_children.extend(children)
    for child in children:
        before = copy.deepcopy(child.variables)  # as inserted: written again only when the start changed them
        run = Run(child, [], parent_run.actor, parent_run.now)
        run.instance_dirty = set()
        run.start()
        if run.variables != before:
            run.instance_dirty.add("variables")
        _drive(run)


def _child_ended(parent_id: int, token_id: int | None, actor: Any, now: datetime) -> None:
    """A child of a call activity ended: when all siblings have, the parent continues with their results."""
    if token_id is None:
        return
    # the parent's status and its children's in one query; the parent itself is read only when it continues
    found = dict(ProcessInstance.objects.filter(Q(pk=parent_id) | Q(parent_token_id=token_id))
                 .values_list("pk", "status"))
    if parent_id not in found:
        raise ProcessInstance.DoesNotExist(f"ProcessInstance {parent_id} does not exist")
    if found.pop(parent_id) != RUNNING:
        return
    statuses = list(found.values())
    if not statuses or RUNNING in statuses:
        return
    parent = ProcessInstance.objects.get(pk=parent_id)
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
    from ..clock import due_date, light_for

    v = inst.variables

    def pick(explicit: int | None, names: tuple[str, ...], attr: str | None) -> int | None:
        if explicit is not None:
            return as_int(explicit, names[0])
        for n in names:
            if v.get(n) not in (None, ""):
                return as_int(v[n], n)
        if attr:
            value = expressions.resolve(attr, v)
            if value not in (None, ""):
                return as_int(value, "tongban:limitDays")
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
    The returned instance carries ``created_tasks``: the user tasks the start opened, and ``started_children``:
    the call-activity children it started (their own children are not listed)."""
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
    inst.started_children = run.started_children
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
            t.assignee = user  # sets assignee_id; Django caches the user (no query when it is read)
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
        if t.live_tokens is None:  # pragma: no cover - read with_tokens above
            raise RuntimeError("the task was read without its instance's live tokens")
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
    from ..clock import clock_status

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
