"""Demo for security operations: the incident response process is deployed and the detection rules run once over
the demo's logs (the demo account ``security`` comes with core's accounts). Idempotent."""

from __future__ import annotations

from rich.console import Console

from . import process, services


def load(console: Console) -> None:
    process.deploy()
    result = services.scan(trigger="demo")
    console.print(f"[green]security[/green]: 应急响应流程已部署，{len(result.findings)} 项检测发现，"
                  f"新开 {len(result.opened)} 个安全事件（账号 security 查看 /security/incidents/）")
