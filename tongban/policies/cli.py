"""Command line: ``tongban policy match [--policy CODE] [--dry-run]``, ``policy list``, ``policy load FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

policy_app = typer.Typer(help="免申即享 policies: match policies against persons and entities.", no_args_is_help=True)


def _fail(exc: Exception) -> None:
    from tongban.core.errors import DomainError

    if isinstance(exc, DomainError):
        typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
        raise typer.Exit(1)
    raise exc


@policy_app.command("match")
def match_command(
    policy: Annotated[list[str] | None, typer.Option("--policy", help="policy code (repeatable); default: all "
                                                                      "published policies")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count and show matches; notify nobody (drafts too)")]
    = False,
) -> None:
    """Match policies against the population: one line per policy, then ``matched=N`` (the total)."""
    from . import services

    try:
        result = services.match(policy or None, dry_run=dry_run)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    total = 0
    for row in result["policies"]:
        total += row["matched"]
        typer.echo(f"{row['code']}\t{row['name']}\tmatched={row['matched']}\tnew={row['new']}"
                   f"\topted_out={row['opted_out']}" + ("\t(dry run)" if dry_run else ""))
        if row["requested"]:
            typer.echo(f"  shared data: {row['requested']} requests to the exchange (each in its access log)")
        if row["refused"]:
            typer.echo(f"  refused: {row['refused']}")
        if dry_run:
            for s in row["sample"]:
                typer.echo(f"  {s['name']}: {s['reason']}")
    population = ", ".join(f"{k}={v}" for k, v in result["run"].population.items())
    typer.echo(f"population: {population or '-'}; {result['run'].seconds:.3f} s")
    typer.echo(f"matched={total}")


@policy_app.command("list")
def list_command() -> None:
    """Every policy: code, status, version, match counts."""
    from . import selectors

    for r in selectors.overview():
        p = r["policy"]
        typer.echo(f"{p.code}\t{p.get_status_display()}\tv{p.version}\t{p.name}\tmatched={r['matched']}"
                   f"\tconfirmed={r['confirmed']}\topted_out={r['opted_out']}")


@policy_app.command("load")
def load_command(path: Annotated[Path, typer.Argument(help='JSON {"policies": [...]}')]) -> None:
    """Load policies (all or nothing); published ones take part in matching at once."""
    from . import services

    try:
        loaded = services.load_policies(path)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    for p in loaded:
        typer.echo(f"{p.code} v{p.version} {p.get_status_display()}")


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")
