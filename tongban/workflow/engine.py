"""The token engine (流程执行): moves tokens through a parsed process graph and writes the result in bulk.

One ``Run`` is one step on one process instance, inside a transaction that holds the lock on the instance
tree's root row (see ``services``). It loads the instance's live tokens once, executes in memory, and ``flush``
writes new and changed rows with a handful of bulk queries. Work that spans instances (spawning the children of
a call activity, resuming a parent when a child ends) is queued as follow-ups and run by ``execute`` after the
run has been flushed, still inside the same transaction.

The engine's support lives beside it: ``config`` (settings read per step, state sets), ``lookups`` (cached
definitions, organisations, calendars, actors), ``times`` (local day, durations, suspensions), ``usertasks``
(the user-task and case-clock part of ``Run``) and ``statements`` (its raw SQL). The names other modules used
to import from here are re-exported below.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.core import store

from . import dmn, expressions, statements
from .config import ACTIVE, DONE, OPEN_TASK_STATES, WAITING, inline_service_tasks
from .errors import WorkflowError
from .lookups import actor_id, actor_label, calendar_for, clear_caches, decision_table, graph_for
from .models import ProcessInstance, Task, Timer, Token
from .statements import CANCEL_TASK_FIELDS, TOKEN_FIELDS, live_tokens
from .times import add_duration, as_int, end_of_day, local_date
from .usertasks import UserTaskSteps

# Other contexts' test set-ups call ``engine.clear_caches()``; the API and tests catch ``engine.WorkflowError``.
__all__ = ["ACTIVE", "DONE", "OPEN_TASK_STATES", "WAITING", "FollowUp", "Run", "WorkflowError", "clear_caches"]


@dataclass
class FollowUp:
    kind: str  # "spawn" | "child_ended"
    data: dict[str, Any] = field(default_factory=dict)


class Run(UserTaskSteps):
    """One engine step on one instance (see module docstring)."""

    def __init__(self, instance: ProcessInstance, tokens: list[Token], actor: Any = None,
                 now: datetime | None = None, today: date | None = None) -> None:
        self.instance = instance
        self.graph = graph_for(instance.definition_id)
        self.elements: dict[str, dict[str, Any]] = self.graph["elements"]
        self.flows: dict[str, dict[str, Any]] = self.graph["flows"]
        self.tokens: dict[int, Token] = {t.id: t for t in tokens}
        for t in tokens:  # in-memory scope links (no lazy FK queries)
            t.scope = self.tokens.get(t.parent_id) if t.parent_id else None
        self.new_tokens: list[Token] = []
        self.dirty_tokens: dict[int, Token] = {}
        self.new_tasks: list[Task] = []
        self.created_tasks: list[Task] = []  # every user task this run created (``new_tasks`` empties on flush)
        self.started_children: list[ProcessInstance] = []  # call-activity children started after this run's writes
        self.dirty_tasks: dict[int, Task] = {}
        self.new_timers: list[Timer] = []
        self.events: list[tuple[str, str, Task | None, dict[str, Any]]] = []  # (element, type, task, data)
        self.follow_ups: list[FollowUp] = []
        self.queue: deque[tuple[str, Token]] = deque()
        self.actor = actor
        self.actor_id = actor_id(actor)
        self.actor_label = actor_label(actor)
        self.now = now or timezone.now()
        self.today = today or local_date(self.now)
        self.variables: dict[str, Any] = instance.variables
        self.instance_dirty: set[str] = {"variables"}
        self.cancel_timer_tokens: set[int] = set()
        self.enqueue_timers: list[Timer] = []
        self.enqueue_services: list[Token] = []
        self.cancel_children_of: list[int] = []
        self.task_updates: list[tuple[Task, tuple[str, ...]]] = []
        self.write_hooks: list[Any] = []  # callables run with the writes (e.g. the core audit record)

    @classmethod
    def load(cls, instance: ProcessInstance, actor: Any = None, now: datetime | None = None) -> Run:
        return cls(instance, live_tokens(instance.id), actor, now)

    # -- bookkeeping ---------------------------------------------------------------------------------------
    def live_tokens(self) -> list[Token]:
        return [t for t in (*self.tokens.values(), *self.new_tokens) if t.state != DONE]

    def event(self, type_: str, element_id: str = "", task: Task | None = None, **data: Any) -> None:
        # plain tuples: an engine step appends several events, written in one INSERT by ``flush``
        self.events.append((element_id, type_, task, data))

    def new_token(self, element_id: str, scope: Token | None) -> Token:
        tok = store.new(Token, instance_id=self.instance.id, element_id=element_id, state=ACTIVE, created_at=self.now)
        tok.scope = scope
        self.new_tokens.append(tok)
        return tok

    def touch(self, token: Token) -> None:
        if token.id is not None:
            self.dirty_tokens[token.id] = token

    def finish_token(self, token: Token) -> None:
        token.state = DONE
        token.ended_at = self.now
        self.touch(token)

    def node(self, element_id: str) -> dict[str, Any]:
        return self.elements[element_id]

    def scope_vars(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        if not extra:
            return self.variables
        return {**self.variables, **extra}

    # -- execution -------------------------------------------------------------------------------------------
    def start(self) -> Token:
        start_id = self.graph["starts"][""]
        tok = self.new_token(start_id, None)
        self.event("instance.started", business_key=self.instance.business_key,
                   process=self.instance.process_key)
        self.queue.append(("enter", tok))
        self.execute()
        return tok

    def execute(self) -> None:
        while self.queue:
            action, token = self.queue.popleft()
            if token.state == DONE:
                continue
            if action == "enter":
                self._enter(token)
            else:
                self._leave(token)

    def continue_from(self, token: Token, **data: Any) -> None:
        """The activity the token waits at is done: log it and take the outgoing flows."""
        self._leave(token, **data)
        self.execute()

    def _enter(self, token: Token) -> None:
        node = self.node(token.element_id)
        kind = node["type"]
        eid = token.element_id
        if kind in ("startEvent", "task", "manualTask", "intermediateThrowEvent", "boundaryEvent"):
            self.queue.append(("leave", token))
        elif kind == "endEvent":
            self.event("element.completed", eid, type=kind)
            if node.get("terminate"):
                self._terminate_scope(token)
            else:
                self.finish_token(token)
                self._check_scope_done(token.scope)
        elif kind == "exclusiveGateway":
            self.queue.append(("leave", token))
        elif kind == "parallelGateway":
            self._parallel(token, node)
        elif kind == "userTask":
            self._wait(token)
            self._create_task(token, node)
            self._arm_boundaries(token, node)
        elif kind == "serviceTask":
            self._wait(token)
            self._arm_boundaries(token, node)
            if inline_service_tasks():
                self._run_handler(token, node)
            else:
                token.data = {**token.data, "service": "pending", "since": self.now.isoformat()}
                self.enqueue_services.append(token)
                self.event("element.started", eid, type=kind, handler=node["handler"])
        elif kind == "businessRuleTask":
            self._decide(token, node)
            self.queue.append(("leave", token))
        elif kind == "callActivity":
            self._wait(token)
            self._arm_boundaries(token, node)
            self.follow_ups.append(FollowUp("spawn", {"token": token}))
        elif kind == "subProcess":
            self._wait(token)
            self._arm_boundaries(token, node)
            self.event("element.started", eid, type=kind)
            child = self.new_token(self.graph["starts"][eid], token)
            self.queue.append(("enter", child))
        elif kind == "intermediateCatchEvent":
            self._wait(token)
            self._schedule_timer(token, eid, node["timer"])
            self.event("element.started", eid, type=kind)
        else:  # pragma: no cover - the parser rejects anything else
            raise WorkflowError(f"cannot run element {eid} of type {kind}", code="workflow.unsupported_element")

    def _wait(self, token: Token) -> None:
        token.state = WAITING
        self.touch(token)

    def _leave(self, token: Token, task: Task | None = None, **data: Any) -> None:
        eid = token.element_id
        node = self.node(eid)
        if self.graph["boundaries"].get(eid) and token.id is not None:
            self.cancel_timer_tokens.add(token.id)
        chosen = self._choose_flows(node, eid)
        self.event("element.completed", eid, task=task, type=node["type"], flows=chosen, **data)
        if not chosen:  # implicit end
            self.finish_token(token)
            self._check_scope_done(token.scope)
            return
        token.state = ACTIVE
        self.touch(token)
        first = True
        for fid in chosen:
            target = self.flows[fid]["target"]
            if first:
                tok = token
                tok.element_id = target
                first = False
            else:
                tok = self.new_token(target, token.scope)
            self.queue.append(("enter", tok))

    def _choose_flows(self, node: dict[str, Any], eid: str) -> list[str]:
        outs = node["out"]
        if not outs:
            return []
        default = node.get("default") or ""
        if node["type"] == "exclusiveGateway":
            for fid in outs:
                if fid == default:
                    continue
                cond = self.flows[fid]["condition"]
                if cond is None or self._condition(cond, fid):
                    return [fid]
            if default:
                return [default]
            raise WorkflowError(f"排他网关 {eid} 没有满足条件的出口（no outgoing flow matched and no default flow）", code="workflow.no_matching_flow", status=409, detail={"element": eid})
        if node["type"] == "parallelGateway":
            return list(outs)
        chosen = [f for f in outs if f != default and (self.flows[f]["condition"] is None
                                                       or self._condition(self.flows[f]["condition"], f))]
        if not chosen and default:
            chosen = [default]
        return chosen

    def _condition(self, cond: str, fid: str) -> bool:
        try:
            return bool(expressions.evaluate(cond, self.variables))
        except expressions.ExpressionError as exc:
            raise WorkflowError(f"条件 {cond!r} 计算失败: {exc}", code="workflow.expression_failed", status=409, detail={"element": fid}) from exc

    def _value(self, text: str, what: str, element: str, extra: dict[str, Any] | None = None) -> Any:
        try:
            return expressions.resolve(text, self.scope_vars(extra))
        except expressions.ExpressionError as exc:
            raise WorkflowError(f"{element} {what} {text!r}: {exc}", code="workflow.expression_failed", status=409, detail={"element": element}) from exc

    def _parallel(self, token: Token, node: dict[str, Any]) -> None:
        eid = token.element_id
        incoming = len(node["in"])
        if incoming > 1:
            token.state = WAITING
            self.touch(token)
            arrived = [t for t in self.live_tokens()
                       if t.element_id == eid and t.state == WAITING and t.scope is token.scope]
            if len(arrived) < incoming:
                return
            for other in arrived:
                if other is not token:
                    self.finish_token(other)
        self.queue.append(("leave", token))

    def _check_scope_done(self, scope: Token | None) -> None:
        if any(t.scope is scope for t in self.live_tokens()):
            return
        if scope is None:
            self._complete_instance()
        else:
            scope.state = ACTIVE
            self.touch(scope)
            self.queue.append(("leave", scope))

    def _terminate_scope(self, token: Token) -> None:
        scope = token.scope
        self.finish_token(token)
        doomed = [t for t in self.live_tokens() if t.scope is scope]
        for t in self._with_descendants(doomed):
            self._cancel_token_work(t)
            self.finish_token(t)
        self._check_scope_done(scope)

    def _with_descendants(self, tokens: list[Token]) -> list[Token]:
        """``tokens`` and every live token inside the sub-processes they wait at (transitively)."""
        out = list(tokens)
        members = {id(t) for t in tokens}
        changed = True
        while changed:
            changed = False
            for t in self.live_tokens():
                if id(t) not in members and t.scope is not None and id(t.scope) in members:
                    out.append(t)
                    members.add(id(t))
                    changed = True
        return out

    def _cancel_token_work(self, token: Token) -> None:
        """Cancel what a token waits on: its open tasks, timers and child instances."""
        if token.id is None:
            return
        self.cancel_timer_tokens.add(token.id)
        node = self.elements.get(token.element_id, {})
        if node.get("type") == "userTask":
            for task in Task.objects.filter(instance_id=token.instance_id, token_id=token.id,
                                            state__in=OPEN_TASK_STATES):
                task.state = Task.State.CANCELLED
                task.completed_at = self.now
                self.dirty_tasks[task.id] = task
                self.event("task.cancelled", token.element_id, task=task)
                if task.excluded_step:
                    self._resume_instance_clock(task.excluded_step, task_id=task.id)
        if node.get("type") == "callActivity":
            self.cancel_children_of.append(token.id)

    def _complete_instance(self) -> None:
        inst = self.instance
        inst.status = ProcessInstance.Status.COMPLETED
        inst.ended_at = self.now
        if inst.suspended_since:
            self._close_instance_suspension()
        self.instance_dirty |= {"status", "ended_at"}
        self.event("instance.completed")
        if inst.parent_id:
            self.follow_ups.append(FollowUp("child_ended", {
                "parent_id": inst.parent_id, "token_id": inst.parent_token_id, "index": inst.parent_index,
                "child_id": inst.id, "status": inst.status,
            }))

    # -- timers ----------------------------------------------------------------------------------------------
    def _timer_due(self, timer: dict[str, Any], element: str) -> datetime:
        if "workingDays" in timer:
            n = as_int(self._value(timer["workingDays"], "workingDays", element), f"{element} workingDays")
            cal = calendar_for(None)
            return end_of_day(cal.add_working_days(self.today, n))
        if "date" in timer:
            text = str(self._value(timer["date"], "timeDate", element))
            try:
                dt = datetime.fromisoformat(text)
            except ValueError:
                raise WorkflowError(f"{element}: invalid timeDate {text!r}", code="workflow.invalid_timer") from None
            if timezone.is_naive(dt):
                dt = timezone.make_aware(dt)
            return dt
        text = str(self._value(timer["duration"], "timeDuration", element))
        return add_duration(self.now, text)

    def _schedule_timer(self, token: Token, element_id: str, timer: dict[str, Any]) -> None:
        due = self._timer_due(timer, element_id)
        t = store.new(Timer, instance_id=self.instance.id, token=token, element_id=element_id, due_at=due, created_at=self.now)
        self.new_timers.append(t)
        self.event("timer.scheduled", element_id, due_at=due.isoformat())

    def _arm_boundaries(self, token: Token, node: dict[str, Any]) -> None:
        for bid in self.graph["boundaries"].get(token.element_id, ()):
            self._schedule_timer(token, bid, self.elements[bid]["timer"])

    def fire(self, timer: Timer) -> bool:
        token = self.tokens.get(timer.token_id)
        node = self.elements.get(timer.element_id)
        if token is None or node is None:
            return False
        if node["type"] == "intermediateCatchEvent":
            if token.element_id != timer.element_id:
                return False
            self.event("timer.fired", timer.element_id, due_at=timer.due_at.isoformat())
            self.continue_from(token)
            return True
        host = node["attached_to"]
        if token.element_id != host or token.state == DONE:
            return False
        self.event("timer.fired", timer.element_id, due_at=timer.due_at.isoformat())
        if node["cancel"]:
            # interrupting: end the activity (its task, inner tokens, children) and leave by the boundary event
            inner = self._with_descendants([token])[1:]
            for t in inner:
                self._cancel_token_work(t)
                self.finish_token(t)
            self._cancel_token_work(token)
            self.event("element.interrupted", host, by=timer.element_id)
            token.element_id = timer.element_id
            token.state = ACTIVE
            self.touch(token)
            self.queue.append(("enter", token))
        else:
            tok = self.new_token(timer.element_id, token.scope)
            self.queue.append(("enter", tok))
        self.execute()
        return True

    # -- service tasks and decisions ------------------------------------------------------------------------
    def _run_handler(self, token: Token, node: dict[str, Any]) -> bool:
        from .registry import ServiceContext, get_handler

        eid = token.element_id
        ctx = ServiceContext(
            instance_id=self.instance.id, process_key=self.instance.process_key,
            business_key=self.instance.business_key, element_id=eid, variables=dict(self.variables),
            attrs=dict(node.get("attrs") or {}),
        )
        try:
            with transaction.atomic():
                result = get_handler(node["handler"])(ctx)
            if result is not None and not isinstance(result, dict):
                raise TypeError(f"handler returned {type(result).__name__}, expected dict or None")
        except Exception as exc:  # noqa: BLE001 - any handler failure becomes an incident
            message = f"{type(exc).__name__}: {exc}"[:300]
            token.data = {**token.data, "service": "failed", "error": message}
            self.touch(token)
            self.instance.incident = f"{eid}: {message}"[:300]
            self.instance_dirty.add("incident")
            self.event("service.failed", eid, handler=node["handler"], error=message)
            return False
        if result:
            self.variables.update(result)
        token.data = {k: v for k, v in token.data.items() if k not in ("service", "error")}
        if self.instance.incident.startswith(f"{eid}:"):
            self.instance.incident = ""
            self.instance_dirty.add("incident")
        self.queue.append(("leave", token))
        return True

    def run_service(self, token: Token) -> bool:
        node = self.node(token.element_id)
        ok = self._run_handler(token, node)
        self.execute()
        return ok

    def _decide(self, token: Token, node: dict[str, Any]) -> None:
        eid = token.element_id
        table = decision_table(node["decision_ref"])
        try:
            result = dmn.evaluate(table, self.variables)
        except dmn.DecisionError as exc:
            raise WorkflowError(f"{eid}: {exc}", code=exc.code, status=409, detail={"element": eid}) from exc
        self.variables[node["result_variable"]] = result
        self.event("decision.evaluated", eid, decision=node["decision_ref"], result=result)

    # -- writing ---------------------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write the step: first the rows whose ids later rows need (tokens, parents first; tasks; timers), then
        every other change in one pipeline (one round trip on PostgreSQL)."""
        pending = list(self.new_tokens)
        while pending:
            ready = [t for t in pending if t.scope is None or t.scope.id is not None]
            if not ready:  # pragma: no cover - a cycle cannot happen
                raise RuntimeError("token scope cycle")
            for t in ready:
                t.parent_id = t.scope.id if t.scope is not None else None
            store.insert(Token, ready)
            pending = [t for t in pending if t.id is None]
        for t in self.new_tokens:
            self.tokens[t.id] = t
        self.new_tokens = []
        if self.new_tasks:
            for task in self.new_tasks:
                token = task.token
                if token is None:  # pragma: no cover - the engine creates every task on a token
                    raise RuntimeError(f"new task {task.element_id} has no token")
                task.token_id = token.id
            store.insert(Task, self.new_tasks)
            self.new_tasks = []
        if self.new_timers:
            for timer in self.new_timers:
                timer.token_id = timer.token.id
            store.insert(Timer, self.new_timers)
            self.enqueue_timers.extend(self.new_timers)
            self.new_timers = []
        with store.pipeline():
            if self.dirty_tokens:
                store.update(Token, list(self.dirty_tokens.values()), TOKEN_FIELDS)
                self.dirty_tokens = {}
            if self.cancel_timer_tokens:
                statements.cancel_timers_of_tokens(sorted(self.cancel_timer_tokens), self.now)
                self.cancel_timer_tokens = set()
            if self.dirty_tasks:
                store.update(Task, list(self.dirty_tasks.values()), CANCEL_TASK_FIELDS)
                self.dirty_tasks = {}
            for task, fields in self.task_updates:
                store.update(Task, [task], fields)
            self.task_updates = []
            if self.instance_dirty:
                store.update(ProcessInstance, [self.instance], sorted(self.instance_dirty))
                self.instance_dirty = set()
            if self.events:
                statements.insert_events(self.instance.id, self.actor_id, self.actor_label, self.now, self.events)
                self.events = []
            hooks, self.write_hooks = self.write_hooks, []
            for hook in hooks:
                hook()
