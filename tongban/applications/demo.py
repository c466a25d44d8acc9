"""Demo data for applications: the approval processes every application runs on (idempotent)."""

from __future__ import annotations

from rich.console import Console

from . import workflow_bridge


def load(console: Console) -> None:
    deployed = workflow_bridge.deploy_processes()
    console.print(f"[green]applications[/green]: 审批流程 {', '.join(deployed)}")
    rules = workflow_bridge.deploy_rules()
    console.print(f"[green]applications[/green]: 秒批决策表 {', '.join(rules)}")
