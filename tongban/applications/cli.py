"""Command line: ``tongban decision explain CASE_NO`` (秒批 audit), added to the workflow context's ``decision``
group: the decision tables live on the workflow engine, the automatic decisions on the applications."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def explain(case_no: Annotated[str, typer.Argument(help="办件编号 (application reference)")]) -> None:
    """Print each automatic decision (秒批) of a case: table, version, inputs, hit rules, outcome; then re-run the
    recorded version over the recorded inputs and say whether it agrees (exit 1 when it does not)."""
    from django.utils import timezone

    from .errors import ApplicationError
    from .services import auto_decisions

    try:
        entries = auto_decisions.explain(case_no)
    except ApplicationError as exc:
        typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
        raise typer.Exit(1) from None
    all_agree = True
    for entry in entries:
        rec = entry["record"]
        labels = (rec.result or {}).get("labels") or {}
        typer.echo(f"{case_no} · {entry['item_name']}（{entry['item_code']}）")
        typer.echo(f"  table: {rec.decision_key} {rec.decision_name}  version: v{rec.decision_version}")
        typer.echo(f"  decided: {timezone.localtime(rec.decided_at):%Y-%m-%d %H:%M:%S}  ({rec.elapsed_ms} ms)")
        typer.echo("  inputs:")
        for name, value in (rec.inputs or {}).items():
            source = (rec.sources or {}).get(name, "")
            typer.echo(f"    {name} = {_value(value)}    [{labels.get(name, name)}; {source}]")
        if rec.missing:
            typer.echo(f"  missing: {', '.join(rec.missing)}")
        typer.echo("  hit rules:")
        for hit in rec.hits:
            tests = "; ".join(hit.get("tests") or []) or "(any)"
            typer.echo(f"    {hit['id']}: {hit.get('description') or ''} [{tests}] -> {_value(hit.get('outputs'))}")
        if not rec.hits:
            typer.echo("    (none)")
        typer.echo(f"  outcome: {rec.outcome} ({rec.get_outcome_display()}) {rec.reason}")
        rerun = entry["rerun"]
        verdict = "一致 (agrees)" if entry["agrees"] else "不一致 (DISAGREES)"
        typer.echo(f"  复核：{verdict}: re-run v{rerun['version']} -> {entry['rerun_outcome']}, "
                   f"hits {', '.join(h['id'] for h in rerun['hits']) or '(none)'}")
        all_agree = all_agree and entry["agrees"]
    if not all_agree:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    group = next((g.typer_instance for g in app.registered_groups if g.name == "decision"), None)
    if group is None:  # pragma: no cover - the workflow context (registered first) owns the group
        raise RuntimeError("the `decision` command group of the workflow context is not registered")
    group.command("explain")(explain)
