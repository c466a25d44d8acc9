"""Workflow engine state (流程引擎): definitions, instances, tokens, tasks, timers and the event log.

Everything an engine step needs is relational and indexed, so that questions such as "all overdue open tasks
of organisation X" are one indexed query (``Task`` index ``wf_task_org_state_due``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tongban.core.models import Organisation
from tongban.core.pii import EncryptedJSONField


class ProcessDefinition(models.Model):
    """One deployed version of a BPMN process (流程定义). Versions are immutable; a new deploy adds a version."""

    key = models.CharField("流程标识", max_length=100)
    version = models.PositiveIntegerField("版本")
    name = models.CharField("名称", max_length=200, blank=True)
    bpmn_xml = models.TextField("BPMN XML")
    display_xml = models.TextField("显示用 XML（含图形信息）", blank=True,
                                   help_text="The BPMN XML with diagram information (generated when the file has none).")
    graph = models.JSONField("解析结果", default=dict)
    checksum = models.CharField("内容摘要", max_length=64)
    source_name = models.CharField("来源文件", max_length=255, blank=True)
    deployed_at = models.DateTimeField("部署时间", default=timezone.now)
    deployed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name="部署人")

    # Not columns: set in memory on the instances that these functions return, and only there.
    created: bool  # services.deploy.deploy: whether this deploy added the version
    versions: int  # selectors.latest_definitions: how many versions of the key exist
    running: int  # selectors.latest_definitions: running instances of the key (all versions)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="wf_procdef_key_version")]
        verbose_name = "流程定义"
        verbose_name_plural = "流程定义"

    def __str__(self) -> str:
        return f"{self.name or self.key} v{self.version}"


class DecisionDefinition(models.Model):
    """One deployed version of a DMN decision table (决策表), e.g. the rules of an auto-approval (秒批)."""

    key = models.CharField("决策标识", max_length=100)
    version = models.PositiveIntegerField("版本")
    name = models.CharField("名称", max_length=200, blank=True)
    dmn_xml = models.TextField("DMN XML")
    table = models.JSONField("解析结果", default=dict)
    checksum = models.CharField("内容摘要", max_length=64)
    source_name = models.CharField("来源文件", max_length=255, blank=True)
    deployed_at = models.DateTimeField("部署时间", default=timezone.now)
    deployed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name="部署人")

    # Not a column: set in memory by services.deploy.deploy_decisions on the instances it returns.
    created: bool  # whether this deploy added the version

    class Meta:
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="wf_decdef_key_version")]
        verbose_name = "决策定义"
        verbose_name_plural = "决策定义"

    def __str__(self) -> str:
        return f"{self.name or self.key} v{self.version}"


class Light(models.TextChoices):
    GREEN = "green", "绿灯"
    YELLOW = "yellow", "黄灯"
    RED = "red", "红灯"


class ProcessInstance(models.Model):
    """A running or finished process (流程实例), pinned to the definition version it started with."""

    class Status(models.TextChoices):
        RUNNING = "running", "运行中"
        COMPLETED = "completed", "已完成"
        CANCELLED = "cancelled", "已撤销"

    definition = models.ForeignKey(ProcessDefinition, on_delete=models.PROTECT, related_name="instances",
                                   verbose_name="流程定义", db_index=False)  # by process key: wf_inst_key_status
    process_key = models.CharField("流程标识", max_length=100)
    business_key = models.CharField("业务标识", max_length=100, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.RUNNING)
    variables = EncryptedJSONField("流程变量", default=dict, blank=True)  # may name people: encrypted (privacy.md)
    # the parent/root links are NULL for most instances: partial indexes below (nothing to write for top level)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children",
                               verbose_name="父流程", db_index=False)
    parent_token = models.ForeignKey("Token", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                     verbose_name="父流程令牌", db_index=False)
    parent_index = models.IntegerField("多实例序号", null=True, blank=True)
    root = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             verbose_name="根流程", help_text="The top instance: every step locks its row.",
                             db_index=False)
    incident = models.CharField("故障", max_length=300, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="发起人", db_index=False)
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    # The case clock (办件时限): promised limit drives the lights; the statutory limit is shown beside it.
    limit_days = models.PositiveIntegerField("承诺时限（工作日）", null=True, blank=True)
    statutory_limit_days = models.PositiveIntegerField("法定时限（工作日）", null=True, blank=True)
    started_on = models.DateField("计时起始日", null=True, blank=True)
    due_on = models.DateField("承诺办结日", null=True, blank=True)
    statutory_due_on = models.DateField("法定办结日", null=True, blank=True)
    suspensions = models.JSONField("中止期间", default=list, blank=True)
    suspended_since = models.DateField("中止起始日", null=True, blank=True)
    light = models.CharField("亮灯", max_length=8, choices=Light.choices, blank=True)

    # Not columns: set in memory by ``services.start`` on the instance it returns (``created_tasks``: the user
    # tasks the start opened; ``started_children``: the call-activity children it started, with their variables).
    created_tasks: list[Task]
    started_children: list[ProcessInstance]

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["process_key", "status"], name="wf_inst_key_status"),
            models.Index(fields=["business_key"], name="wf_inst_business_key"),
            # the periodic clock check reads running cases that have a clock: only those are indexed
            models.Index(fields=["due_on"], name="wf_inst_clock_due",
                         condition=models.Q(status="running", limit_days__isnull=False)),
            models.Index(fields=["parent"], name="wf_inst_parent", condition=models.Q(parent__isnull=False)),
            models.Index(fields=["parent_token"], name="wf_inst_parent_token",
                         condition=models.Q(parent_token__isnull=False)),
            models.Index(fields=["root"], name="wf_inst_root", condition=models.Q(root__isnull=False)),
        ]
        verbose_name = "流程实例"
        verbose_name_plural = "流程实例"

    def __str__(self) -> str:
        return f"{self.process_key}#{self.pk} {self.business_key}".strip()

    @property
    def root_id_or_self(self) -> int:
        return self.root_id or self.pk


class Token(models.Model):
    """The position of one path of execution (令牌). Parallel branches have one token each; a token waiting at
    a sub-process or call activity is the ``parent`` of the tokens inside it."""

    class State(models.TextChoices):
        ACTIVE = "active", "执行中"
        WAITING = "waiting", "等待"
        DONE = "done", "已结束"

    # db_index=False where a composite index below starts with the column (fewer index pages per write)
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="tokens", db_index=False)
    element_id = models.CharField("当前元素", max_length=100)
    state = models.CharField("状态", max_length=8, choices=State.choices, default=State.ACTIVE)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                               verbose_name="所属子流程令牌", db_index=False)
    data = models.JSONField("附加数据", default=dict, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)

    # Not a column: the engine's in-memory link to the token of the enclosing scope (the ``parent`` object, kept
    # without lazy foreign-key queries; engine.Run sets it on every token it holds).
    scope: Token | None

    class Meta:
        indexes = [
            models.Index(fields=["instance"], name="wf_token_instance"),  # no state: moving a token writes no index
            models.Index(fields=["parent"], name="wf_token_parent", condition=models.Q(parent__isnull=False)),
        ]
        verbose_name = "令牌"
        verbose_name_plural = "令牌"

    def __str__(self) -> str:
        return f"token {self.pk} @ {self.element_id} ({self.state})"


class Task(models.Model):
    """A user task (待办/审批任务) for a candidate role within a candidate organisation, on a statutory clock."""

    class State(models.TextChoices):
        OPEN = "open", "待认领"
        CLAIMED = "claimed", "办理中"
        COMPLETED = "completed", "已办结"
        CANCELLED = "cancelled", "已取消"

    OPEN_STATES = (State.OPEN, State.CLAIMED)

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="tasks", db_index=False)
    token = models.ForeignKey(Token, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks",
                              db_index=False)  # a token's tasks: by instance (wf_task_instance), then token
    element_id = models.CharField("环节标识", max_length=100)
    name = models.CharField("环节名称", max_length=200)
    candidate_role = models.CharField("候选角色", max_length=40, blank=True)
    candidate_org = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="workflow_tasks", verbose_name="候选机构", db_index=False)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="workflow_tasks", verbose_name="办理人", db_index=False)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.OPEN)
    outcomes = models.JSONField("可选结果", default=list, blank=True)
    outcome = models.CharField("办理结果", max_length=40, blank=True)
    opinion = models.TextField("办理意见", blank=True)
    opinions = models.JSONField("意见记录", default=list, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    claimed_at = models.DateTimeField("认领时间", null=True, blank=True)
    completed_at = models.DateTimeField("办结时间", null=True, blank=True)
    # Statutory clock (时限): working days from started_on; suspended periods (特殊环节/中止) do not count.
    limit_days = models.PositiveIntegerField("时限（工作日）", null=True, blank=True)
    started_on = models.DateField("计时起始日", null=True, blank=True)
    due_on = models.DateField("到期日", null=True, blank=True)
    suspended_days = models.PositiveIntegerField("已中止工作日", default=0)
    suspensions = models.JSONField("中止期间", default=list, blank=True)
    suspended_since = models.DateField("中止起始日", null=True, blank=True)
    light = models.CharField("亮灯", max_length=8, choices=Light.choices, blank=True)
    escalated_at = models.DateTimeField("督办时间", null=True, blank=True)
    escalate_role = models.CharField("督办角色", max_length=40, blank=True)
    excluded_step = models.CharField("特殊环节", max_length=60, blank=True,
                                     help_text="While this task is open the case clock is suspended.")
    form = models.JSONField("表单/附加信息", default=dict, blank=True)

    # Not a column: the live tokens of the task's instance, read with the task under lock by
    # services.locks._lock_task (None unless it was asked for them); only the instances it returns have it.
    live_tokens: list[Token] | None

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            # "all overdue open tasks of organisation X": candidate_org = X AND state IN (open, claimed) AND due_on < today
            # (partial: only open tasks are indexed; red lights city-wide are the same index with due_on < today)
            models.Index(fields=["candidate_org", "state", "due_on"], name="wf_task_org_state_due",
                         condition=models.Q(state__in=["open", "claimed"])),
            models.Index(fields=["assignee", "state"], name="wf_task_assignee_state",
                         condition=models.Q(assignee__isnull=False)),
            # without the state: completing a task leaves this index alone (an instance has few tasks)
            models.Index(fields=["instance"], name="wf_task_instance"),
        ]
        verbose_name = "任务"
        verbose_name_plural = "任务"

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class Timer(models.Model):
    """A timer (定时器): a boundary timer on an activity or an intermediate timer event; fires exactly once."""

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="timers")
    token = models.ForeignKey(Token, on_delete=models.CASCADE, related_name="timers")
    element_id = models.CharField("定时事件", max_length=100)
    due_at = models.DateTimeField("到期时间")
    fired_at = models.DateTimeField("触发时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["fired_at", "cancelled_at", "due_at"], name="wf_timer_pending_due")]
        verbose_name = "定时器"
        verbose_name_plural = "定时器"

    def __str__(self) -> str:
        return f"timer {self.element_id} @ {self.due_at:%Y-%m-%d %H:%M}"


class Event(models.Model):
    """Append-only event log (流程日志): every state change, with actor and time. Source for audit, progress
    display and process mining."""

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="events", db_index=False)
    element_id = models.CharField("元素", max_length=100, blank=True)
    type = models.CharField("类型", max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_index=False)
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    at = models.DateTimeField("时间", default=timezone.now)
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="events",
                             db_index=False)  # a task's events: by instance (wf_event_inst_at), then task
    data = models.JSONField("数据", default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["instance", "at"], name="wf_event_inst_at"),
        ]
        verbose_name = "流程事件"
        verbose_name_plural = "流程事件"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.type} {self.element_id}"


class Notification(models.Model):
    """A message to a user from the engine, e.g. an escalation (督办) of an overdue task to the supervising role."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="workflow_notifications")
    kind = models.CharField("类型", max_length=40)
    subject = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="wf_notif_recipient_read")]
        verbose_name = "通知"
        verbose_name_plural = "通知"

    def __str__(self) -> str:
        return self.subject
