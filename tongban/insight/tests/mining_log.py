"""A small hand-built event log for the process-mining tests: a process run on the engine, its tasks' times then
set by hand so that every waiting and working time is known.

Process ``mining_t`` (市场监管局 and 消防救援支队):

    start → 受理 (accept) → 审查 (review: approve | return)
        return  → 补正材料 (correction, 特殊环节) → 审查
        approve → 现场核查 (site, 市场监管局) → 消防核查 (fire, 消防救援支队) → 消防结论 gateway on fire_outcome
                  → 决定 (decide) → end

``site → fire`` is a serial pair of two departments with no data dependency (a parallel candidate);
``fire → decide`` is not (the gateway between them reads ``fire_outcome``); ``review → site`` neither (the gateway
reads ``review_outcome``); ``accept → review`` follows directly, of two bodies (the window, 市场监管局): the tests
say which pairs are proposed and why.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tongban.workflow import services as wf
from tongban.workflow.models import ProcessInstance, Task
from tongban.workflow.tests.helpers import bpmn, chain, flow, user_task

TZ = ZoneInfo("Asia/Shanghai")
KEY = "mining_t"

XML = bpmn(KEY, "\n".join([
    '    <bpmn:startEvent id="start" name="申请"/>',
    user_task("accept", "受理", org="yx-zwzx", role="window_clerk"),
    user_task("review", "审查", outcomes="approve,return"),
    '    <bpmn:exclusiveGateway id="gw_review" name="审查结果" default="f_ok"/>',
    user_task("correction", "补正材料", org="", role="applicant", extra='tongban:excludedStep="补正材料"'),
    user_task("site", "现场核查"),
    user_task("fire", "消防核查", org="yx-xf", outcomes="pass,fail"),
    '    <bpmn:exclusiveGateway id="gw_fire" name="消防结论" default="f_fire_ok"/>',
    user_task("decide", "决定"),
    '    <bpmn:endEvent id="end" name="办结"/>',
    '    <bpmn:endEvent id="end_fail" name="不予许可"/>',
    chain("start", "accept", "review", "gw_review"),
    flow("f_ret", "gw_review", "correction", "${review_outcome == 'return'}"),
    flow("f_back", "correction", "review"),
    flow("f_ok", "gw_review", "site"),
    chain("site", "fire", "gw_fire"),
    flow("f_fire_ok", "gw_fire", "decide"),
    flow("f_fire_fail", "gw_fire", "end_fail", "${fire_outcome == 'fail'}"),
    flow("f_end", "decide", "end"),
]), 'tongban:limitDays="10"')


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A time in March 2026, Asia/Shanghai (2 Mar is a Monday; 7–8 and 14–15 Mar are weekends)."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=TZ)


Step = tuple[str, str, dt.datetime, dt.datetime, dt.datetime]  # element, outcome, created, claimed, completed


def run_case(business_key: str, steps: list[Step]) -> ProcessInstance:
    """Start an instance and complete its tasks in order; each task then gets the given times."""
    inst = wf.start(KEY, business_key)
    first = steps[0][2]
    ProcessInstance.objects.filter(pk=inst.pk).update(started_at=first)
    for element, outcome, created, claimed, completed in steps:
        task = Task.objects.get(instance=inst, element_id=element, state=Task.State.OPEN)
        wf.complete(task, None, outcome or None, check_permissions=False)
        Task.objects.filter(pk=task.pk).update(created_at=created, claimed_at=claimed, completed_at=completed)
    return inst


# The three cases. Waiting = claimed − created, working = completed − claimed (all on working days).
CASES: dict[str, list[Step]] = {
    # straight through: 5 activities
    "C1": [("accept", "", at(2, 9), at(2, 9), at(2, 10)),
           ("review", "approve", at(2, 10), at(3, 10), at(3, 12)),          # waits 1 day (24 h), works 2 h
           ("site", "", at(3, 12), at(3, 14), at(4, 14)),                    # waits 2 h, works 1 day
           ("fire", "pass", at(4, 14), at(6, 14), at(6, 16)),               # waits 2 days, works 2 h
           ("decide", "", at(6, 16), at(6, 16), at(6, 17))],
    # one rework loop (审查 → 补正材料 → 审查)
    "C2": [("accept", "", at(2, 9), at(2, 9), at(2, 10)),
           ("review", "return", at(2, 10), at(2, 11), at(2, 12)),
           ("correction", "", at(2, 12), at(2, 12), at(4, 12)),
           ("review", "approve", at(4, 12), at(5, 12), at(5, 13)),          # waits 1 day
           ("site", "", at(5, 13), at(5, 14), at(6, 14)),
           ("fire", "pass", at(6, 14), at(10, 14), at(10, 15)),             # Fri → Tue over a weekend: 2 working days
           ("decide", "", at(10, 15), at(10, 15), at(10, 16))],
    # refused by the fire brigade: ends after 消防核查
    "C3": [("accept", "", at(9, 9), at(9, 9), at(9, 10)),
           ("review", "approve", at(9, 10), at(9, 10), at(9, 11)),
           ("site", "", at(9, 11), at(9, 12), at(10, 12)),
           ("fire", "fail", at(10, 12), at(12, 12), at(12, 13))],
}


def build_all() -> dict[str, ProcessInstance]:
    wf.deploy(XML, "mining_t.bpmn")
    return {bk: run_case(bk, steps) for bk, steps in CASES.items()}
