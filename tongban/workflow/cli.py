"""``tongban process ...`` and ``tongban decision ...`` commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer


def _echo_errors(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line, err=True)


def _deploy_all(files: list[Path], deploy: Callable[[Path], list[Any]]) -> None:
    """Deploy each file: ``KEY vVERSION`` per definition, ``FILE:LINE: element ID: message`` per problem; exit 1
    when any file was refused (the others are still deployed)."""
    from .bpmn import DefinitionError

    failed = False
    for path in files:
        try:
            definitions = deploy(path)
        except DefinitionError as exc:
            _echo_errors(exc.lines())
            failed = True
            continue
        for d in definitions:
            note = "" if d.created else " (unchanged)"
            typer.echo(f"{d.key} v{d.version}{note}")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    process = typer.Typer(help="流程定义与实例 (BPMN process definitions and instances).", no_args_is_help=True)
    decision = typer.Typer(help="决策表 (DMN decision tables).", no_args_is_help=True)

    @process.command("import")
    def process_import(
        files: list[Path] = typer.Argument(..., help="BPMN 2.0 files (.bpmn)."),  # noqa: B008
    ) -> None:
        """Deploy BPMN files: prints KEY vVERSION per process; errors as FILE:LINE: element ID: message."""
        from .services import deploy_file

        _deploy_all(files, deploy_file)

    @process.command("list")
    def process_list() -> None:
        """List deployed processes (latest version, number of versions, running instances)."""
        from .selectors import latest_definitions

        defs = latest_definitions()
        if not defs:
            typer.echo("（尚未部署流程 no processes deployed）")
            return
        width = max(len(d.key) for d in defs)
        for d in defs:
            typer.echo(f"{d.key:<{width}}  v{d.version:<3} versions={d.versions:<3} running={d.running:<5} {d.name}")

    @process.command("start")
    def process_start(
        key: str = typer.Argument(..., help="Process key."),
        business_key: str = typer.Option("", "--business-key", "-b"),
        variables: str = typer.Option("{}", "--vars", help="Variables as a JSON object."),
    ) -> None:
        """Start an instance of the latest version of a process."""
        from .errors import WorkflowError
        from .services import start

        try:
            data = json.loads(variables)
        except json.JSONDecodeError as exc:
            typer.echo(f"--vars: invalid JSON: {exc}", err=True)
            raise typer.Exit(2) from exc
        try:
            inst = start(key, business_key, data)
        except WorkflowError as exc:
            typer.echo(f"{exc.code}: {exc.message}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"instance {inst.pk} {inst.process_key} {inst.status}")

    @process.command("tick")
    def process_tick() -> None:
        """Fire due timers and run the clock check once (lights, escalation). For cron when no worker runs."""
        from .services import check_clocks, fire_due_timers

        fired = fire_due_timers()
        counts = check_clocks()
        typer.echo(f"timers_fired={fired} tasks={counts['tasks']} changed={counts['changed']} "
                   f"escalated={counts['escalated']} instances={counts['instances']}")

    @decision.command("import")
    def decision_import(
        files: list[Path] = typer.Argument(..., help="DMN files (.dmn)."),  # noqa: B008
    ) -> None:
        """Deploy DMN decision tables: prints KEY vVERSION per decision."""
        from .services import deploy_decision_file

        _deploy_all(files, deploy_decision_file)

    @decision.command("list")
    def decision_list() -> None:
        """List deployed decisions."""
        from .selectors import decisions

        for d in decisions():
            typer.echo(f"{d.key}  v{d.version}  {d.table.get('hit_policy', 'literal')}  {d.name}")

    app.add_typer(process, name="process")
    app.add_typer(decision, name="decision")
