"""Catalogue commands of the ``tongban`` command line.

- ``tongban load-catalog FILE``: load a catalogue JSON file, or (with ``--organisation``) a CSV/Excel power or
  responsibility list. Exit 0 with a summary; exit 1 with ``FILE:LINE: message`` lines on stderr, changing nothing.
- ``tongban export-catalog [--output FILE]``: the whole catalogue as JSON (loadable again).
- ``tongban lists export ORG --format csv|xlsx|json --kind powers|responsibilities --output FILE``,
  ``tongban lists versions ORG``, ``tongban lists diff ORG FROM TO``.
"""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tongban.core.models import Organisation, User

from . import importing, selectors, services
from .models import DutyList


class ListFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    json = "json"


class ListKind(StrEnum):
    powers = "powers"
    responsibilities = "responsibilities"
    all = "all"


def _fail(lines: list[str]) -> None:
    for line in lines:
        sys.stderr.write(line + "\n")
    raise typer.Exit(code=1)


def _actor(username: str | None) -> User | None:
    if not username:
        return None
    user = User.objects.filter(username=username).first()
    if user is None:
        _fail([f"错误：用户 “{username}” 不存在"])
    return user


def _summary(result: importing.ImportResult, console: Console) -> None:
    console.print(f"{'试运行（未写入任何数据）' if result.dry_run else '导入完成'}：{result.file}", markup=False)
    table = Table()
    table.add_column("对象")
    table.add_column("新建", justify="right")
    table.add_column("更新", justify="right")
    table.add_column("未变", justify="right")
    for label, counts in (("事项", result.items), ("一件事", result.bundles)):
        table.add_row(label, str(counts[services.CREATED]), str(counts[services.UPDATED]),
                      str(counts[services.UNCHANGED]))
    table.add_row("权责清单版本", str(len(result.versions_created)), "—", str(result.lists_unchanged))
    console.print(table)
    for org, version, status in result.versions_created:
        console.print(f"  {org} v{version}（{DutyList.Status(status).label}）")


def load_catalog_command(
    file: Annotated[Path, typer.Argument(help="catalogue .json, or a power/responsibility list .csv / .xlsx")],
    organisation: Annotated[str | None, typer.Option(
        "--organisation", "-o", help="organisation code of a .csv/.xlsx list (e.g. scjg)")] = None,
    kind: Annotated[ListKind | None, typer.Option(
        help="list kind of a .csv/.xlsx file (default: from its header)")] = None,
    effective_date: Annotated[str | None, typer.Option(
        "--effective-date", help="effective date YYYY-MM-DD of a .csv/.xlsx list (default today)")] = None,
    draft: Annotated[bool, typer.Option("--draft", help="keep a .csv/.xlsx list as an unpublished draft")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate and report, write nothing")] = False,
    user: Annotated[str | None, typer.Option(
        "--user", help="username recorded as the author of the changes")] = None,
    reason: Annotated[str, typer.Option("--reason", help="why (recorded in the change history)")] = "",
) -> None:
    """Load a catalogue file (JSON) or a power/responsibility list (CSV/Excel); a bad file changes nothing."""
    date = None
    if effective_date:
        try:
            date = dt.date.fromisoformat(effective_date)
        except ValueError:
            _fail([f"错误：--effective-date “{effective_date}” 不是有效日期（YYYY-MM-DD）"])
    actor = _actor(user)
    console = Console()
    errors = Console(stderr=True)
    options: dict[str, object] = {"actor": actor, "dry_run": dry_run, "reason": reason}
    if file.suffix.lower() != ".json":
        options.update(kind=kind.value if kind and kind != ListKind.all else None, effective_date=date,
                       publish=not draft)
    try:
        with Progress(TextColumn("[bold]导入[/bold] {task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=errors, transient=True,
                      disable=not errors.is_terminal) as progress:
            task = progress.add_task(file.name, total=None)

            def on_progress(what: str, done: int, total: int) -> None:
                progress.update(task, completed=done, total=total, description=what)

            result = importing.load_file(file, organisation=organisation, progress=on_progress,
                                         display_name=str(file), **options)
    except importing.CatalogFileError as exc:
        _fail([str(issue) for issue in exc.issues] + [f"{len(exc.issues)} 个错误，未做任何修改。"])
    _summary(result, console)


def export_catalog_command(
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="file to write (default: standard output)")] = None,
) -> None:
    """Export the whole catalogue (items, bundles, every list version) as a tongban-catalog/1 JSON file."""
    text = importing.export_catalog_json()
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    data = selectors.export_catalog()
    Console(stderr=True).print(f"已导出 {len(data['items'])} 个事项、{len(data['bundles'])} 个一件事、"
                               f"{len(data['duty_lists'])} 个清单版本到 {output}")


lists_app = typer.Typer(help="Power and responsibility lists (权力清单/责任清单).", no_args_is_help=True)


def _organisation(code: str) -> Organisation:
    org = selectors.get_organisation(code)
    if org is None:
        _fail([f"错误：未知的机构编码 “{code}”"])
    return org  # type: ignore[return-value]


def _version(org: Organisation, version: int | None) -> DutyList:
    duty_list = (selectors.get_duty_list_version(org, version, published_only=False) if version
                 else selectors.current_duty_list(org))
    if duty_list is None:
        _fail([f"错误：{org.code} 没有{f' v{version}' if version else '现行有效的'}权责清单"])
    return duty_list  # type: ignore[return-value]


@lists_app.command("export")
def lists_export(
    org_code: Annotated[str, typer.Argument(metavar="ORG", help="organisation code, e.g. scjg")],
    output: Annotated[Path, typer.Option("--output", "-o", help="file to write")],
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="csv, xlsx or json")] = ListFormat.xlsx,
    kind: Annotated[ListKind, typer.Option(
        "--kind", "-k", help="powers or responsibilities (csv needs one; xlsx/json may take all)")] = ListKind.all,
    version: Annotated[int | None, typer.Option(
        "--version", help="version number (default: the current one)")] = None,
) -> None:
    """Export an organisation's current (or given) list version as CSV, Excel or JSON."""
    org = _organisation(org_code)
    duty_list = _version(org, version)
    if fmt == ListFormat.csv:
        if kind == ListKind.all:
            _fail(["错误：CSV 每个文件只含一种清单，请指定 --kind powers 或 --kind responsibilities"])
        output.write_bytes(importing.export_list_csv(duty_list, kind.value))
    elif fmt == ListFormat.xlsx:
        kinds = ("powers", "responsibilities") if kind == ListKind.all else (kind.value,)
        output.write_bytes(importing.export_list_xlsx(duty_list, kinds))
    else:
        output.write_text(importing.export_list_json(duty_list, None if kind == ListKind.all else kind.value),
                          encoding="utf-8")
    Console(stderr=True).print(f"已导出 {org.code} 权责清单 v{duty_list.version} 到 {output}")


@lists_app.command("versions")
def lists_versions(org_code: Annotated[str, typer.Argument(metavar="ORG")]) -> None:
    """List the versions of an organisation's list (drafts included)."""
    org = _organisation(org_code)
    current = selectors.current_duty_list(org)
    table = Table(title=f"{org.name} 权责清单版本")
    for column in ("版本", "状态", "生效日期", "权力", "责任", "调整原因"):
        table.add_column(column)
    for d in selectors.duty_list_versions(org, published_only=False):
        mark = "（现行）" if current and d.pk == current.pk else ""
        table.add_row(f"v{d.version}{mark}", d.get_status_display(), str(d.effective_date or "—"),
                      str(d.power_count), str(d.responsibility_count), d.change_reason)
    Console().print(table)


@lists_app.command("diff")
def lists_diff(org_code: Annotated[str, typer.Argument(metavar="ORG")],
               old: Annotated[int, typer.Argument(metavar="FROM")],
               new: Annotated[int, typer.Argument(metavar="TO")]) -> None:
    """Show what changed between two versions of an organisation's list."""
    org = _organisation(org_code)
    diff = selectors.diff_duty_lists(_version(org, old), _version(org, new))
    console = Console()
    console.print(f"{org.name} 权责清单 v{old} → v{new}")
    for label, kind in (("权力事项", diff.powers), ("责任事项", diff.responsibilities)):
        for row in kind.added:
            console.print(f"  [green]+ {label} {row['code']}[/green]", row.get("name") or row.get("responsibilities"))
        for row in kind.removed:
            console.print(f"  [red]- {label} {row['code']}[/red]", row.get("name") or row.get("responsibilities"))
        for change in kind.changed:
            console.print(f"  [yellow]~ {label} {change.code}[/yellow] {change.title}")
            for f in change.changes:
                console.print(f"      {f.label}: {f.old!r} → {f.new!r}", markup=False)
    if diff.empty:
        console.print("  两个版本内容相同")


def search_eval_command(
    path: Annotated[Path | None, typer.Argument(help="JSON: {\"queries\": [{\"q\": ..., \"expected\": [CODE]}]}")] = None,
    show: Annotated[bool, typer.Option("--show", help="print every query's rank and top 3")] = False,
) -> None:
    """Evaluate the catalogue search on a query set (default: the shipped one): mean reciprocal rank, recall@5."""
    import json

    from . import demo, search

    path = path or demo.DEMO_FILE.parent / "search_queries.json"
    cases = json.loads(path.read_text(encoding="utf-8"))["queries"]
    result = search.evaluate(cases)
    for row in result["rows"]:
        if show or row["rank"] != 1:
            typer.echo(f"{row['rank'] or '-'}\t{row['q']}\t{' '.join(row['top'])}")
    typer.echo(f"queries={result['queries']} mrr={result['mrr']:.3f} recall@5={result['recall_at_5']:.3f}")


def register(app: typer.Typer) -> None:
    app.command("search-eval")(search_eval_command)
    app.command("load-catalog")(load_catalog_command)
    app.command("export-catalog")(export_catalog_command)
    app.add_typer(lists_app, name="lists")
