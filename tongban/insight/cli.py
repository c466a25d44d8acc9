"""``tongban insight ...``: indicators, event-log export, process mining, 问责线索 (each command documents itself)."""

from __future__ import annotations

import typer

insight_app = typer.Typer(help="评估与洞察 insight: indicators, event-log export, process mining.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(insight_app, name="insight")


# --- indicators (tongban/insight/indicators/) --------------------------------------------------------------------

@insight_app.command("indicators")
def indicators_command(
    period: str = typer.Option(..., "--period", help="统计月份 YYYY-MM（本地时间）。"),
    org: str = typer.Option("", "--org", help="只统计这个机构（机构代码）。"),
    fmt: str = typer.Option("table", "--format", help="json（[{id, dimension, value, unit}]）或 table。"),
) -> None:
    """Compute every declared indicator for one month (and optionally one organisation)."""
    import json

    from .errors import InsightError
    from .indicators import compute

    if fmt not in ("json", "table"):
        typer.echo("error [insight.invalid]: --format 须为 json 或 table", err=True)
        raise typer.Exit(2)
    try:
        figures = compute(period, org=org)
    except InsightError as exc:
        typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
        raise typer.Exit(1) from None
    if fmt == "json":
        typer.echo(json.dumps([f.as_dict() for f in figures], ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"评估指标 {period}" + (f" · {org}" if org else ""))
    for col in ("维度", "指标", "值", "单位", "目标"):
        table.add_column(col)
    for f in figures:
        ind = f.indicator
        table.add_row(ind.dimension, f"{ind.name}（{ind.id}）", "—" if f.value is None else f"{f.value:g}",
                      ind.unit, "" if ind.target is None else f"{ind.target:g}")
    Console().print(table)


@insight_app.command("load-indicators")
def load_indicators_command(
    path: str = typer.Argument("", help="指标定义文件（YAML）；省略则为配置的文件（TONGBAN_INSIGHT_INDICATORS 或内置）。"),
) -> None:
    """Load the indicator file: a changed file becomes a new stored version; an identical one changes nothing."""
    from pathlib import Path

    from .errors import InsightError
    from .indicators import load

    try:
        defs, created = load(Path(path) if path else None)
    except InsightError as exc:
        typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
        raise typer.Exit(1) from None
    state = "new version" if created else "unchanged"
    typer.echo(f"indicators v{defs.version} ({state}) sha256={defs.sha256} indicators={len(defs.indicators)}")

@insight_app.command("raise-leads")
def raise_leads_command(
    since: str = typer.Option("", "--since", help="只扫描该日（YYYY-MM-DD，本地日期）及以后发生的记录。"),
) -> None:
    """Raise accountability leads (问责线索) from red lights, failed post-checks and missed rectifications: one line
    per new lead, then ``raised=N``. Idempotent: a source record raises at most one lead, ever."""
    import datetime as dt

    from .accountability import services

    day = None
    if since:
        try:
            day = dt.date.fromisoformat(since)
        except ValueError:
            typer.echo(f"error [insight.invalid]: --since “{since}” 应为 YYYY-MM-DD", err=True)
            raise typer.Exit(2) from None
    leads = services.raise_new_leads(since=day)
    for lead in leads:
        typer.echo(f"lead={lead.pk} source={lead.source} ref={lead.source_ref} department={lead.department.code} "
                   f"occurred={lead.occurred_on.isoformat()} {lead.subject}")
    typer.echo(f"raised={len(leads)}")


from .mining.cli import add_commands as _mining_commands  # noqa: E402  (process mining: export-log, mine)

_mining_commands(insight_app)
