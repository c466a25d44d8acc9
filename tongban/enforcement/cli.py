"""Command line: ``tongban enforcement export CASE_NO DIR`` and ``tongban enforcement import-benchmarks FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

enforcement_app = typer.Typer(help="行政执法 enforcement: benchmarks, case files, publication warnings.",
                              no_args_is_help=True)


@enforcement_app.command("export")
def export(case_no: Annotated[str, typer.Argument(help="The case number, e.g. ZF-2026-00001.")],
           dest: Annotated[Path, typer.Argument(help="The bag directory to create (absent or empty).")]) -> None:
    """Write the case file (全过程记录, attachments, decision) as a BagIt bag; `tongban archive verify DIR` passes."""
    from tongban.core.errors import DomainError

    from .errors import EnforcementError
    from .services import export_case

    try:
        path = export_case(case_no, dest)
    except (EnforcementError, DomainError) as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"exported: {path}")


@enforcement_app.command("import-benchmarks")
def import_benchmarks(path: Annotated[Path, typer.Argument(help="A benchmark table (.yaml/.json or .csv).")]) -> None:
    """Import a discretion benchmark table; any problem refuses the whole file (row and field named)."""
    from .errors import BenchmarkImportError
    from .importing import import_file

    try:
        result = import_file(path)
    except BenchmarkImportError as exc:
        for p in exc.problems:
            typer.echo(f"{path}: {p['row']}: {p['field']}: {p['message']}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"imported: {result.items} items, {result.levels} levels, {result.factors} factors")


@enforcement_app.command("check-publications")
def check_publications() -> None:
    """Warn the department heads about decisions whose publication (公示) is overdue; prints the count."""
    from .services import warn_overdue_publications

    typer.echo(f"overdue publications warned: {warn_overdue_publications()}")


def register(app: typer.Typer) -> None:
    app.add_typer(enforcement_app, name="enforcement")
