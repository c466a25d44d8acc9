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


def mine(
    process: str = typer.Option("", "--process", help="Process key (流程标识)."),
    item: str = typer.Option("", "--item", help="Item code (事项编码)."),
    fmt: str = typer.Option("text", "--format", help="text (tables) or json."),
) -> None:
    """Mine a process (or an item's cases): variants, waiting and working time per activity in working days, rework
    loops, fitness against the deployed BPMN, the bottleneck, and the next reengineering step with the working
    days each proposal would save. The last text line is ``bottleneck=NAME fitness=F``."""
    import json

    from .errors import MiningError
    from .report import report

    try:
        r = report(process, item)
    except MiningError as exc:
        _fail(exc)
        return
    if fmt == "json":
        typer.echo(json.dumps(r.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    _print_text(r)


def _print_text(r) -> None:  # noqa: ANN001  (a report.Report)
    from rich.console import Console
    from rich.table import Table

    m = r.mining
    console = Console(width=140)
    console.print(f"{m.process_name}：{m.cases} 个案例（已办结 {m.finished_cases}），{m.events} 个已完成环节；"
                  f"平均办理 {m.mean_case_days if m.mean_case_days is not None else '—'} 个工作日")
    t = Table(title="各环节等待与办理时间（工作日）")
    for col in ("环节", "部门", "次数", "平均等待", "中位等待", "平均办理", "等待合计", "特殊环节"):
        t.add_column(col)
    for s in m.activities:
        t.add_row(s.activity, s.organisation or "—", str(s.executions), f"{s.mean_waiting:.2f}",
                  f"{s.median_waiting:.2f}", f"{s.mean_working:.2f}", f"{s.total_waiting:.2f}",
                  "是" if s.excluded_step else "")
    console.print(t)
    t = Table(title="流程变体")
    for col in ("路径", "案例", "占比", "平均用时"):
        t.add_column(col)
    for v in m.variants:
        t.add_row(" → ".join(v.activities), str(v.cases), f"{v.share:.0%}", f"{v.mean_days:.2f}")
    console.print(t)
    for rw in m.rework:
        console.print(f"返工：{rw.loop}（{rw.cases} 个案例，{rw.share:.0%}；多用 {rw.extra_days:.2f} 个工作日）")
    c = m.conformance
    if c.log_fitness is not None:
        console.print(f"合规性（对照 {c.model}）：拟合度 {c.log_fitness:.3f}，完全符合的案例 {c.fitting_share:.0%}"
                      + (f"；模型之外的环节：{'、'.join(c.unknown_activities)}" if c.unknown_activities else ""))
    elif c.error:
        console.print(f"合规性：{c.error}")
    t = Table(title="流程再造建议")
    for col in ("类型", "建议", "每件节省（工作日）", "涉及", "合计节省"):
        t.add_column(col)
    for p in r.proposals:
        t.add_row(p.kind_label, p.title, f"{p.days_per_case:.2f}", str(p.cases), f"{p.total_days:.2f}")
    console.print(t)
    fitness = f"{c.log_fitness:.3f}" if c.log_fitness is not None else "-"
    typer.echo(f"bottleneck={m.bottleneck.activity if m.bottleneck else '-'} fitness={fitness}")


def add_commands(app: typer.Typer) -> None:
    app.command("export-log")(export_log)
    app.command("mine")(mine)
