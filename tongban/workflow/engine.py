"""The token engine (流程执行): moves tokens through a parsed process graph and writes the result in bulk.

One ``Run`` is one step on one process instance, inside a transaction that holds the lock on the instance
tree's root row (see ``services``). It loads the instance's live tokens once, executes in memory, and ``flush``
writes new and changed rows with a handful of bulk queries. Work that spans instances (spawning the children of
a call activity, resuming a parent when a child ends) is queued as follow-ups and run by ``execute`` after the
run has been flushed, still inside the same transaction.
"""

from __future__ import annotations

import calendar as _pycal
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tongban.core import store

from . import dmn, expressions
from .bpmn import parse_duration
from .errors import WorkflowError
from .models import DecisionDefinition, Event, Light, ProcessDefinition, ProcessInstance, Task, Timer, Token

ACTIVE = Token.State.ACTIVE
WAITING = Token.State.WAITING
DONE = Token.State.DONE
OPEN_TASK_STATES = (Task.State.OPEN, Task.State.CLAIMED)


# ---------------------------------------------------------------------------------------------------------------
# caches (definitions are immutable once deployed; organisations and calendars change rarely)

_GRAPHS: dict[int, dict[str, Any]] = {}
_DECISIONS: dict[int, dict[str, Any]] = {}
_ORGS: dict[str, tuple[float, int, int | None]] = {}
_DIVISIONS: dict[int, int | None] = {}  # organisation id -> division id (organisations rarely move)
_TODAY: list[tuple[datetime, datetime, date, Any]] = []  # the local day of the last step: start, end, date, zone
_CALENDARS: dict[int | None, tuple[float, Any]] = {}
_LATEST: dict[tuple[str, str], tuple[float, int]] = {}
CACHE_SECONDS = 60.0
# Which version is the latest: a deploy in this process is seen at once (signal), one in another process (the
# admin site, another worker) within this many seconds.
LATEST_SECONDS = 5.0


def clear_caches() -> None:
    _SETTINGS.clear()
    _GRAPHS.clear()
    _DECISIONS.clear()
    _ORGS.clear()
    _DIVISIONS.clear()
    _TODAY.clear()
    _CALENDARS.clear()
    _LATEST.clear()


def clear_definition_caches(**_: Any) -> None:
    _GRAPHS.clear()
    _DECISIONS.clear()
    _LATEST.clear()


def _latest_id(kind: str, key: str, model: Any) -> int | None:
    hit = _LATEST.get((kind, key))
    now = time.monotonic()
    if hit is not None and now - hit[0] < LATEST_SECONDS:
        return hit[1]
    rows = store.fetch(f"SELECT {store.column(model, 'id')} FROM {store.table(model)} "
                       f"WHERE {store.column(model, 'key')} = %s ORDER BY {store.column(model, 'version')} DESC "
                       "LIMIT 1", [key])
    if not rows:
        return None
    _LATEST[(kind, key)] = (now, rows[0][0])
    return rows[0][0]


def clear_organisation_cache(**_: Any) -> None:
    _ORGS.clear()
    _DIVISIONS.clear()
    _CALENDARS.clear()


def clear_calendar_cache(**_: Any) -> None:
    _CALENDARS.clear()


ROLE_GENERATION = [0]


def bump_role_generation(**_: Any) -> None:
    """Role grants changed: role answers cached on user objects are stale."""
    ROLE_GENERATION[0] += 1


def graph_for(definition_id: int) -> dict[str, Any]:
    graph = _GRAPHS.get(definition_id)
    if graph is None:
        graph = ProcessDefinition.objects.values_list("graph", flat=True).get(pk=definition_id)
        _GRAPHS[definition_id] = graph
    return graph


def latest_definition_id(key: str) -> int:
    pk = _latest_id("process", key, ProcessDefinition)
    if pk is None:
        raise WorkflowError(f"没有已部署的流程 {key}（process not deployed）", code="workflow.process_not_found", status=404, detail={"key": key})
    return pk


def decision_table(key: str) -> dict[str, Any]:
    row = _latest_id("decision", key, DecisionDefinition)
    if row is None:
        raise WorkflowError(f"没有已部署的决策 {key}（decision not deployed）", code="workflow.decision_not_found", status=404, detail={"key": key})
    table = _DECISIONS.get(row)
    if table is None:
        table = DecisionDefinition.objects.values_list("table", flat=True).get(pk=row)
        _DECISIONS[row] = table
    return table


def organisation_ref(code: str) -> tuple[int, int | None]:
    """(id, division id) of an organisation code, cached briefly."""
    from tongban.core.models import Organisation

    hit = _ORGS.get(code)
    now = time.monotonic()
    if hit and now - hit[0] < CACHE_SECONDS * 5:
        return hit[1], hit[2]
    row = Organisation.objects.filter(code=code).values_list("pk", "division_id").first()
    if row is None:
        raise WorkflowError(f"机构代码 {code} 不存在（unknown organisation）", code="workflow.unknown_organisation", status=400, detail={"organisation": code})
    _ORGS[code] = (now, row[0], row[1])
    _DIVISIONS[row[0]] = row[1]
    return row


def division_of(org_id: int | None) -> int | None:
    """The division of an organisation (cached until an organisation changes)."""
    if org_id is None:
        return None
    try:
        return _DIVISIONS[org_id]
    except KeyError:
        from tongban.core.models import Organisation

        division = Organisation.objects.filter(pk=org_id).values_list("division_id", flat=True).first()
        _DIVISIONS[org_id] = division
        return division


def local_date(now: datetime) -> date:
    """``timezone.localdate(now)``, without the time-zone conversion while ``now`` stays within the same local
    day as the previous call."""
    tz = timezone.get_current_timezone()
    day = _TODAY[0] if _TODAY else None
    if day is not None and day[3] is tz and day[0] <= now < day[1]:
        return day[2]
    today = timezone.localdate(now, tz)
    start = datetime.combine(today, datetime.min.time(), tzinfo=tz)
    _TODAY[:] = [(start, end_of_day(today), today, tz)]
    return today


def calendar_for(division_id: int | None) -> Any:
    """The working calendar of a division (national + local overrides), cached for a minute."""
    from tongban.core.calendar import WorkingCalendar

    hit = _CALENDARS.get(division_id)
    now = time.monotonic()
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    division = None
    if division_id is not None:
        from tongban.core.models import Division

        division = Division.objects.filter(pk=division_id).first()
    cal = WorkingCalendar.load(division)
    _CALENDARS[division_id] = (now, cal)
    return cal


_SETTINGS: dict[str, Any] = {}


def _setting(name: str, default: Any) -> Any:
    """A setting the engine reads on every step, kept until ``setting_changed`` (a missing setting costs an
    exception inside Django's lazy settings on every lookup)."""
    try:
        return _SETTINGS[name]
    except KeyError:
        value = _SETTINGS[name] = getattr(settings, name, default)
        return value


def clear_setting_cache(**_: Any) -> None:
    _SETTINGS.clear()


def yellow_share() -> float:
    return float(_setting("TONGBAN_CLOCK_YELLOW_SHARE", 0.8))


def inline_service_tasks() -> bool:
    return bool(_setting("TONGBAN_WORKFLOW_INLINE", False))


def actor_label(actor: Any) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return str(actor)[:150]
    return "system"


def actor_id(actor: Any) -> int | None:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return actor.pk
    return None


# ---------------------------------------------------------------------------------------------------------------
# time helpers


def _add_months(dt: datetime, months: int) -> datetime:
    month0 = dt.month - 1 + months
    year = dt.year + month0 // 12
    month = month0 % 12 + 1
    day = min(dt.day, _pycal.monthrange(year, month)[1])
    return dt.replace(year=year, month=month, day=day)


def add_duration(start: datetime, text: str) -> datetime:
    parts = parse_duration(text)
    if parts is None:
        raise WorkflowError(f"invalid ISO 8601 duration {text!r}", code="workflow.invalid_timer")
    dt = start
    months = int(parts.get("y", 0)) * 12 + int(parts.get("mo", 0))
    if months:
        dt = _add_months(dt, months)
    return dt + timedelta(weeks=parts.get("w", 0), days=parts.get("d", 0), hours=parts.get("h", 0),
                          minutes=parts.get("mi", 0), seconds=parts.get("s", 0))


def end_of_day(d: date) -> datetime:
    """The instant a day is over: local midnight of the next day."""
    tz = timezone.get_current_timezone()
    return datetime.combine(d + timedelta(days=1), datetime.min.time(), tzinfo=tz)


def _as_int(value: Any, what: str) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise WorkflowError(f"{what} must be a whole number, got {value!r}", code="workflow.invalid_value") from None
    if n < 0:
        raise WorkflowError(f"{what} must not be negative, got {n}", code="workflow.invalid_value")
    return n


# ---------------------------------------------------------------------------------------------------------------
# the run


@dataclass
class FollowUp:
    kind: str  # "spawn" | "child_ended"
    data: dict[str, Any] = field(default_factory=dict)


class Run:
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
        self.dirty_tasks: dict[int, Task] = {}
        self.new_timers: list[Timer] = []
        self.events: list[Event] = []
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

    # -- user tasks and the clock ----------------------------------------------------------------------------
    def _create_task(self, token: Token, node: dict[str, Any]) -> Task:
        eid = token.element_id
        role = str(self._value(node["candidate_role"], "candidateRole", eid) or "")
        org_code = node.get("candidate_org") or ""
        org_id = division_id = None
        resolved_org = ""
        if org_code:
            code = self._value(org_code, "candidateOrg", eid)
            if code:
                resolved_org = str(code)
                org_id, division_id = organisation_ref(resolved_org)
        limit = None
        if node.get("limit_days"):
            raw = self._value(node["limit_days"], "limitDays", eid)
            if raw not in (None, ""):
                limit = _as_int(raw, f"{eid} limitDays")
        task = store.new(
            Task, instance_id=self.instance.id, token=token, element_id=eid, name=node["name"] or eid,
            candidate_role=role, candidate_org_id=org_id, outcomes=node.get("outcomes") or [],
            created_at=self.now, escalate_role=node.get("escalate_role") or "",
            excluded_step=node.get("excluded_step") or "",
            form={"form_key": node["form"]} if node.get("form") else {},
        )
        if node.get("assignee"):
            username = self._value(node["assignee"], "assignee", eid)
            if username:
                from tongban.core.models import User

                user_id = User.objects.filter(username=str(username)).values_list("pk", flat=True).first()
                if user_id is None:
                    raise WorkflowError(f"{eid}: 用户 {username} 不存在", code="workflow.unknown_user", status=400)
                task.assignee_id = user_id
                task.state = Task.State.CLAIMED
                task.claimed_at = self.now
        if limit is not None:
            task.limit_days = limit
            task.started_on = self.today
            task.due_on, task.light = _fresh_clock(calendar_for(division_id), self.today, limit, yellow_share())
        self.new_tasks.append(task)
        self.created_tasks.append(task)
        self.event("element.started", eid, task=task, type="userTask", candidate_role=role,
                   candidate_org=resolved_org, limit_days=limit)
        if task.excluded_step:
            self._suspend_instance_clock(task.excluded_step, task=task)
        return task

    def _suspend_instance_clock(self, reason: str, task: Task | None = None) -> None:
        inst = self.instance
        if inst.suspended_since is not None or inst.limit_days is None or inst.status != "running":
            return
        inst.suspended_since = self.today
        inst.suspensions = [*inst.suspensions, {"start": self.today.isoformat(), "end": None, "reason": reason,
                                                "auto": True}]
        self.instance_dirty |= {"suspended_since", "suspensions"}
        self.event("clock.suspended", task.element_id if task else "", task=task, reason=reason, scope="instance")

    def _resume_instance_clock(self, reason: str, task_id: int | None = None) -> None:
        inst = self.instance
        if inst.suspended_since is None:
            return
        last = inst.suspensions[-1] if inst.suspensions else {}
        if not last.get("auto") or last.get("reason") != reason:
            return
        self._close_instance_suspension()
        self.event("clock.resumed", reason=reason, scope="instance")

    def _close_instance_suspension(self) -> None:
        from .clock import due_date

        inst = self.instance
        sus = [dict(s) for s in inst.suspensions]
        if sus and sus[-1].get("end") is None:
            sus[-1]["end"] = self.today.isoformat()
        inst.suspensions = sus
        inst.suspended_since = None
        if inst.limit_days is not None and inst.started_on:
            cal = calendar_for(None)
            parsed = parse_suspensions(sus)
            inst.due_on = due_date(cal, inst.started_on, inst.limit_days, parsed, on=self.today)
            if inst.statutory_limit_days is not None:
                inst.statutory_due_on = due_date(cal, inst.started_on, inst.statutory_limit_days, parsed,
                                                 on=self.today)
        self.instance_dirty |= {"suspended_since", "suspensions", "due_on", "statutory_due_on"}

    def complete_task(self, task: Task, outcome: str, opinion: str) -> None:
        token = self.tokens.get(task.token_id)
        if token is None or token.element_id != task.element_id:
            raise WorkflowError("任务对应的流程位置已不存在（task token gone）", code="workflow.task_not_open", status=409)
        if task.excluded_step:
            self._resume_instance_clock(task.excluded_step, task_id=task.id)
        self._leave(token, task=task, outcome=outcome)
        self.execute()

    # -- timers ----------------------------------------------------------------------------------------------
    def _timer_due(self, timer: dict[str, Any], element: str) -> datetime:
        if "workingDays" in timer:
            n = _as_int(self._value(timer["workingDays"], "workingDays", element), f"{element} workingDays")
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
                task.token_id = task.token.id
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
                ids = sorted(self.cancel_timer_tokens)
                store.execute(
                    f"UPDATE {store.table(Timer)} SET {store.column(Timer, 'cancelled_at')} = %s "
                    f"WHERE {store.column(Timer, 'token')} IN ({', '.join(['%s'] * len(ids))}) "
                    f"AND {store.column(Timer, 'fired_at')} IS NULL AND {store.column(Timer, 'cancelled_at')} IS NULL",
                    [Timer._meta.get_field("cancelled_at").get_db_prep_save(self.now, store.connection), *ids])
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
                prep_at, prep_data = store.preparer(Event, "at"), store.preparer(Event, "data")
                at = prep_at(self.now)
                store.insert_rows(Event, EVENT_COLUMNS, [
                    (self.instance.id, element_id, type_, self.actor_id, self.actor_label, at,
                     task.id if task is not None else None, prep_data(data))
                    for element_id, type_, task, data in self.events
                ])
                self.events = []
            hooks, self.write_hooks = self.write_hooks, []
            for hook in hooks:
                hook()


TOKEN_FIELDS = ("element_id", "state", "data", "ended_at")
EVENT_COLUMNS = ("instance_id", "element_id", "type", "actor_id", "actor_label", "at", "task_id", "data")
CANCEL_TASK_FIELDS = ("state", "completed_at", "suspended_since", "suspensions", "due_on")


@lru_cache(maxsize=1024)
def _fresh_clock(cal: Any, today: date, limit: int, share: float) -> tuple[date, str]:
    """Due date and light of a clock starting today (the same for every task opened today with this limit)."""
    from .clock import due_date, light_for

    return due_date(cal, today, limit), light_for(0, limit, share)


def live_tokens(instance_id: int) -> list[Token]:
    """The tokens of an instance that are not done (one indexed query)."""
    return store.select(Token, f"{store.column(Token, 'instance')} = %s AND {store.column(Token, 'state')} <> %s",
                        [instance_id, DONE])


def parse_suspensions(items: list[dict[str, Any]]) -> list[Any]:
    from .clock import Suspension

    out = []
    for s in items or []:
        out.append(Suspension(date.fromisoformat(s["start"]), date.fromisoformat(s["end"]) if s.get("end") else None,
                              s.get("reason", "")))
    return out

LIGHTS = {v for v, _ in Light.choices}
