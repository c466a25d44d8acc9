"""``tongban insight export-log`` and ``tongban insight mine``: the event log out, the process mined."""

from __future__ import annotations

from pathlib import Path

import typer


def _fail(exc: Exception) -> None:
    code = getattr(exc, "code", "error")
    typer.echo(f"error [{code}]: {getattr(exc, 'message', exc)}", err=True)
    raise typer.Exit(1) from None


def export_log(
    file: Path = typer.Argument(..., help="The file to write (e.g. log.xes or log.jsonocel)."),
    process: str = typer.Option("", "--process", help="Process key (流程标识) whose instances to export."),
    item: str = typer.Option("", "--item", help="Item code (事项编码): the instances its applications ran on."),
    fmt: str = typer.Option("xes", "--format", help="xes (IEEE 1849, traces = process instances) or ocel (OCEL 2.0 JSON)."),
) -> None:
    """Write the event log of a process or an item as XES or OCEL 2.0 JSON (read by pm4py); the last line is
    ``cases=N events=M file=PATH``. An unknown process or item, or a bad format, writes nothing and exits 1."""
    from .errors import MiningError
    from .eventlog import build_log
    from .export import write

    try:
        log = build_log(process, item)
        events = write(log, file, fmt.lower())
    except MiningError as exc:
        _fail(exc)
        return
    typer.echo(f"cases={len(log.cases)} events={events} file={file}")


def add_commands(app: typer.Typer) -> None:
    app.command("export-log")(export_log)
