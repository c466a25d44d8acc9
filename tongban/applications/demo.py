"""Demo data for applications: the approval processes every application runs on (idempotent)."""

from __future__ import annotations

from rich.console import Console

from . import workflow_bridge
from .models import AssistanceRequest
from .services.assistance import request_assistance


def load(console: Console) -> None:
    deployed = workflow_bridge.deploy_processes()
    console.print(f"[green]applications[/green]: 审批流程 {', '.join(deployed)}")
    rules = workflow_bridge.deploy_rules()
    console.print(f"[green]applications[/green]: 秒批决策表 {', '.join(rules)}")

    # 帮办预约: an elderly person asked the city centre for help (the clerk's list at /window/assistance/)
    if not AssistanceRequest.objects.filter(name="李阿婆", handled_at__isnull=True).exists():
        request_assistance(name="李阿婆", phone="13800001234", service="城乡居民养老保险待遇领取资格认证",
                           centre_code="yx-zwzx", channel=AssistanceRequest.Channel.WINDOW,
                           preferred_period=AssistanceRequest.Period.MORNING, note="腿脚不便，需要轮椅")
        console.print("[green]applications[/green]: 帮办预约 1 件（市民中心）")
