"""Demo data for the workflow engine: the processes in ``demo/*.bpmn`` and ``demo/*.dmn`` and a few running
instances so that the back office shows where cases stand. Idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from tongban.core.models import User

from . import services
from .models import ProcessInstance, Task

DEMO_DIR = Path(__file__).resolve().parent / "demo"

BUNDLE_ITEMS = [
    {"code": "DEMO-YJS-0001-1", "name": "食品经营许可", "org": "yx-scjg", "process": "bundle_item", "limit_days": 10},
    {"code": "DEMO-YJS-0001-2", "name": "公众聚集场所投入使用、营业前消防安全检查", "org": "yx-xf",
     "process": "bundle_item", "limit_days": 10},
    {"code": "DEMO-YJS-0001-3", "name": "户外招牌设施设置审批", "org": "yx-cg", "process": "bundle_item",
     "limit_days": 5},
]


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _complete(instance: ProcessInstance, element_id: str, username: str, outcome: str = "", opinion: str = "") -> None:
    task = Task.objects.filter(instance=instance, element_id=element_id, state__in=Task.OPEN_STATES).first()
    user = _user(username)
    if task is not None and user is not None:
        services.complete(task, user, outcome or None, opinion=opinion)


def _start(key: str, business_key: str, variables: dict[str, Any], starter: str) -> ProcessInstance | None:
    if ProcessInstance.objects.filter(business_key=business_key, parent__isnull=True).exists():
        return None
    return services.start(key, business_key, variables, _user(starter))


def load(console: Console) -> None:
    admin = _user("admin")
    decisions = [d for path in sorted(DEMO_DIR.glob("*.dmn")) for d in services.deploy_decision_file(path, admin)]
    processes = [d for path in sorted(DEMO_DIR.glob("*.bpmn")) for d in services.deploy_file(path, admin)]
    started = 0
    if _user("clerk") is not None:
        applicant = {"applicant_name": "张三"}  # no ID number: process variables are not encrypted (docs/privacy.md)
        inst = _start("permit_single", "DEMO-XK-0001", {**applicant, "item": "食品经营许可（仅销售预包装食品）"},
                      "zhangsan")
        if inst:
            started += 1
            _complete(inst, "accept", "clerk", "accept", "材料齐全，予以受理")
        inst = _start("joint_approval", "DEMO-BL-0001",
                      {"applicant_name": "云溪星火科技有限公司", "shop": "星火小馆（翠湖路12号）"}, "yunxi-tech")
        if inst:
            started += 1
            _complete(inst, "accept", "clerk")
            _complete(inst, "xf_review", "approver-xf", "approve", "消防设施符合要求")
        inst = _start("certificate_auto", "DEMO-MP-0001",
                      {**applicant, "applicant_kind": "natural", "age": 34, "credit_level": "A",
                       "has_social_insurance": True, "rejections_last_year": 0}, "zhangsan")
        started += bool(inst)
        inst = _start("certificate_auto", "DEMO-MP-0002",
                      {"applicant_name": "李四", "applicant_kind": "natural", "age": 41, "credit_level": "C",
                       "has_social_insurance": False, "rejections_last_year": 1}, "lisi")
        started += bool(inst)
        inst = _start("bundle_one_thing", "DEMO-YJS-0001",
                      {"bundle": "餐饮店开店一件事", "applicant_name": "云溪星火科技有限公司", "items": BUNDLE_ITEMS},
                      "yunxi-tech")
        if inst:
            started += 1
            _complete(inst, "accept", "clerk")
            child = inst.children.filter(business_key="DEMO-YJS-0001-3").first()
            if child is not None:
                _complete(child, "dept_review", "approver-cg", "approve", "招牌设置符合规范")
    console.print(f"[green]workflow[/green]: {len(processes)} 个流程定义, {len(decisions)} 个决策表, "
                  f"新启动 {started} 个演示流程实例")
