"""Demo data for 免申即享: the policies of ``demo/policies.json`` (idempotent), then one batch match."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from . import services

DEMO_FILE = Path(__file__).resolve().parent / "demo" / "policies.json"


def load(console: Console) -> None:
    policies = services.load_policies(DEMO_FILE)
    result = services.match()
    matched = ", ".join(f"{r['code']} {r['matched']}" for r in result["policies"])
    console.print(f"[green]policies[/green]: 政策 {len(policies)} 项；批量匹配 {matched}")
