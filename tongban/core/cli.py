"""Core commands: ``tongban calendar ...`` (the working-day calendar, 工作日历) and ``tongban backup`` /
``tongban restore`` (docs/operations.md).

- ``tongban calendar add-working-days 2026-09-30 5`` prints only the resulting date (YYYY-MM-DD).
- ``tongban calendar working-days 2026-09-30 2026-10-12`` prints only the count of working days in (FROM, TO].
- ``tongban calendar import FILE.csv`` loads a local calendar (all-or-nothing, ``FILE:LINE: message`` errors).
- ``tongban calendar show YEAR [--division CODE] [--list]`` shows a month grid or the list of non-standard days.
- ``tongban backup DIR`` writes a backup; ``tongban restore DIR [--check] [--force]`` checks and restores one.
- ``tongban keys rotate-pii [--retire]`` rotates the key of the personal data at rest; ``tongban keys pii-status``
  lists rows per key id (docs/privacy.md).

Results go to stdout, warnings and errors to stderr; bad input exits non-zero.
"""

from __future__ import annotations

import calendar as stdlib_calendar
import unicodedata
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from .backup import BackupError
from .calendar import (
    WEEKDAY_NAMES,
    CalendarImportError,
    WorkingCalendar,
    decode_csv_bytes,
    import_calendar_days,
    parse_calendar_csv,
    parse_iso_date,
    special_days,
)

USAGE_ERROR = 2

calendar_app = typer.Typer(
    help="工作日历 working-day calendar: national holidays, make-up workdays (调休) and local calendars.",
    no_args_is_help=True,
)

# Negative numbers ("-1") must reach the command as arguments so that they get a clear message.
_NUMBER_ARGS = {"ignore_unknown_options": True}


def _fail(message: str, code: int = USAGE_ERROR) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def _date(text: str, what: str) -> date:
    try:
        return parse_iso_date(text)
    except ValueError as exc:
        raise _fail(f"{what}: {exc}") from None


def _calendar(division_code: str | None) -> WorkingCalendar:
    """The calendar for a division (or the national one with global overrides). Without a migrated database the
    national calendar alone is used, with a note on stderr."""
    from django.db import DatabaseError

    from .models import Division

    try:
        division = None
        if division_code:
            division = Division.objects.filter(code=division_code).first()
            if division is None:
                raise _fail(f"unknown division code {division_code!r}")
        return WorkingCalendar.load(division)
    except DatabaseError:
        if division_code:
            raise _fail("the database is not ready (run `tongban migrate`); division calendars need it") from None
        _warn("database not ready (run `tongban migrate`): local calendars ignored, national calendar only")
        return WorkingCalendar()


def _year_ranges(years: list[int]) -> str:
    """[2003, 2027, 2028, 2029] -> "2003, 2027–2029"."""
    parts: list[str] = []
    first = prev = years[0]
    for y in [*years[1:], None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        parts.append(str(first) if first == prev else f"{first}–{prev}")
        if y is not None:
            first = prev = y
    return ", ".join(parts)


def _warn_uncovered(cal: WorkingCalendar, start: date, end: date) -> None:
    years = cal.uncovered_years(start, end)
    if years:
        listed = _year_ranges(years)
        _warn(
            f"no holiday data for {listed}: only weekends are rest days there "
            "(import the local calendar with `tongban calendar import`)"
        )


@calendar_app.command("add-working-days", context_settings=_NUMBER_ARGS)
def add_working_days(
    start: str = typer.Argument(..., metavar="YYYY-MM-DD", help="Start day (not counted)."),
    n: str = typer.Argument(..., metavar="N", help="Number of working days (>= 0)."),
    division: str | None = typer.Option(None, "--division", help="Division code for its local calendar."),
) -> None:
    """Print the Nth working day after the date (the start day itself does not count)."""
    day = _date(start, "start date")
    try:
        count = int(n.strip())
    except ValueError:
        raise _fail(f"N must be a whole number, got {n!r}") from None
    if count < 0:
        raise _fail(f"N must be 0 or more, got {count}")
    cal = _calendar(division)
    try:
        result = cal.add_working_days(day, count)
    except OverflowError:
        raise _fail("the result lies beyond year 9999") from None
    _warn_uncovered(cal, day, result)
    typer.echo(result.isoformat())


@calendar_app.command("working-days")
def working_days(
    start: str = typer.Argument(..., metavar="FROM", help="YYYY-MM-DD, not counted."),
    end: str = typer.Argument(..., metavar="TO", help="YYYY-MM-DD, counted."),
    division: str | None = typer.Option(None, "--division", help="Division code for its local calendar."),
) -> None:
    """Print the count of working days in (FROM, TO] (0 when TO is not after FROM)."""
    first = _date(start, "FROM")
    last = _date(end, "TO")
    cal = _calendar(division)
    if last > first:
        _warn_uncovered(cal, first, last)
    typer.echo(str(cal.working_days_between(first, last)))


@calendar_app.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="Columns: date,is_workday,note[,division_code].")],
) -> None:
    """Import a local calendar (地方调整): all rows or none; errors as FILE:LINE: message."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise _fail(f"{file}: cannot read: {exc.strerror or exc}") from None
    try:
        text = decode_csv_bytes(data)
    except UnicodeDecodeError:
        raise _fail(f"{file}:1: not a UTF-8 or GB18030 text file") from None
    try:
        days = parse_calendar_csv(text)
    except CalendarImportError as exc:
        for line, message in exc.errors:
            typer.echo(f"{file}:{line}: {message}", err=True)
        typer.echo(f"{file}: nothing imported ({len(exc.errors)} error(s))", err=True)
        raise typer.Exit(1) from None
    created, updated = import_calendar_days(days, source=str(file))
    unchanged = len(days) - created - updated
    typer.echo(f"导入完成 imported {len(days)} day(s): {created} created, {updated} updated, {unchanged} unchanged")


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(d: date, workday: bool) -> str:
    plain = d.weekday() < 5
    mark = "  " if workday == plain else ("班" if workday else "休")
    return f"{d.day:>2}{mark}"


def _month_lines(cal: WorkingCalendar, year: int, month: int) -> list[str]:
    width = 7 * 4 + 6
    title = f"{year}年{month}月"
    lines = [title + " " * (width - _display_width(title))]
    lines.append(" ".join(f"  {name}" for name in WEEKDAY_NAMES))
    for week in stdlib_calendar.Calendar().monthdatescalendar(year, month):
        cells = [_cell(d, cal.is_workday(d)) if d.month == month else "    " for d in week]
        lines.append(" ".join(cells))
    while len(lines) < 8:
        lines.append(" " * width)
    return lines


@calendar_app.command("show")
def show(
    year: int = typer.Argument(..., help="Year, e.g. 2026."),
    division: str | None = typer.Option(None, "--division", help="Division code for its local calendar."),
    as_list: bool = typer.Option(False, "--list", help="List only the non-standard days instead of a grid."),
) -> None:
    """Show a year: month grids (休 = rest on a weekday, 班 = working weekend day) or the non-standard days."""
    if not 1 <= year <= 9999:
        raise _fail(f"year must be between 1 and 9999, got {year}")
    cal = _calendar(division)
    where = f"（区划 {division}）" if division else "（全国）"
    if as_list:
        for day in special_days(cal, year):
            status = "上班" if day.is_workday else "休息"
            source = "地方" if day.source == "local" else "全国"
            typer.echo(f"{day.date.isoformat()} 周{WEEKDAY_NAMES[day.date.weekday()]} {status} {source} {day.note}".rstrip())
    else:
        typer.echo(f"{year}年工作日历{where}  休 = 工作日休息  班 = 周末上班")
        for first in range(1, 13, 2):
            left = _month_lines(cal, year, first)
            right = _month_lines(cal, year, first + 1)
            typer.echo("")
            for a, b in zip(left, right, strict=True):
                typer.echo(f"{a}    {b}".rstrip())
        typer.echo("")
        typer.echo(f"工作日 working days: {len(cal.working_days_in(year))}")
    if not cal.covers(year):
        _warn(f"no holiday data for {year}: only weekends are rest days "
              "(import the local calendar with `tongban calendar import`)")


# --- backup and restore (docs/operations.md) -----------------------------------------------------------------


def _backup_failed(exc: BackupError) -> typer.Exit:
    typer.echo(f"error: {exc.message}", err=True)
    for problem in exc.problems[:50]:
        typer.echo(f"  {problem}", err=True)
    if len(exc.problems) > 50:
        typer.echo(f"  … and {len(exc.problems) - 50} more", err=True)
    return typer.Exit(1)


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def backup(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="A new (or empty) directory for the backup.")],
) -> None:
    """Back up the database, uploaded files, keys, archives and the secret key into DIR (with SHA-256 manifest)."""
    from .backup import create_backup

    try:
        manifest = create_backup(directory, progress=lambda m: typer.echo(m, err=True))
    except BackupError as exc:
        raise _backup_failed(exc) from None
    files = manifest["files"]
    typer.echo(f"备份完成 backup written: {directory}")
    typer.echo(f"database: {manifest['database']['engine']} ({_size(files[0]['size'])})")
    typer.echo(f"files: {len(files) - 1} ({_size(sum(f['size'] for f in files[1:]))})")


def restore(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="A backup written by `tongban backup`.")],
    check: bool = typer.Option(False, "--check", help="Only check the backup against its manifest."),
    force: bool = typer.Option(False, "--force", help="Overwrite an installation that already holds data."),
) -> None:
    """Restore a backup into this installation (TONGBAN_HOME, DATABASE_URL) after checking all of it."""
    from .backup import restore_backup, verify_backup

    try:
        if check:
            manifest = verify_backup(directory)
            typer.echo(f"备份完好 backup is complete: {len(manifest['files'])} file(s) match the manifest "
                       f"({manifest['database']['engine']}, {manifest['created_at']})")
            return
        report = restore_backup(directory, force=force, progress=lambda m: typer.echo(m, err=True))
    except BackupError as exc:
        raise _backup_failed(exc) from None
    typer.echo(f"恢复完成 restored: database ({report.engine}) and {report.files} file(s) from {directory}")
    if report.pending_migrations:
        typer.echo(f"note: {report.pending_migrations} migration(s) of this version are not applied yet: run "
                   "`tongban migrate` (serve does it on start)")


keys_app = typer.Typer(help="个人信息加密密钥 keys of the personal data encrypted at rest (docs/privacy.md).",
                       no_args_is_help=True)


@keys_app.command("rotate-pii")
def rotate_pii(
    retire: bool = typer.Option(False, "--retire", help="Drop the old keys once no row needs them."),
) -> None:
    """A new key becomes primary and every encrypted row is re-encrypted with it (old keys kept unless --retire)."""
    from . import pii
    from .crypto import PiiKeyError

    try:
        report = pii.rotate(retire=retire)
    except PiiKeyError as exc:
        raise _fail(exc.message, code=1) from None
    typer.echo(f"primary key: {report['primary']}")
    for table, rows in report["rows"].items():
        typer.echo(f"re-encrypted {table}: {rows} row(s)")
    if retire:
        typer.echo(f"retired keys: {', '.join(report['retired']) or '(none)'}")


@keys_app.command("pii-status")
def pii_status() -> None:
    """Rows per key id of every encrypted column ("clear": a value not yet encrypted, "empty": no value)."""
    from . import crypto, pii

    ring = crypto.keyring()
    typer.echo(f"keyring: {crypto.keyring_path()}")
    typer.echo(f"keys: {', '.join(sorted(ring.keys))} (primary {ring.primary})")
    for table, columns in pii.status().items():
        for column, counts in columns.items():
            listed = ", ".join(f"{label}={n}" for label, n in sorted(counts.items())) or "no rows"
            typer.echo(f"{table}.{column}: {listed}")


site_app = typer.Typer(help="站点配置 the city this installation serves (docs/operations.md).", no_args_is_help=True)


@site_app.command("show")
def site_show() -> None:
    """Print the site configuration, one ``name=value`` a line (the public URL and time zone included)."""
    from . import site

    for name, value in site.as_dict().items():
        typer.echo(f"{name}={value}")


@site_app.command("set")
def site_set(assignments: Annotated[list[str], typer.Argument(
        metavar="NAME=VALUE...", help="e.g. city_name=某某市 reference_prefix=MM service_centre=ORG_CODE")]) -> None:
    """Change the site record: every value is checked first; a bad one changes nothing."""
    from django.core.exceptions import ObjectDoesNotExist, ValidationError

    from . import site

    values: dict[str, str] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep:
            typer.echo(f"not NAME=VALUE: {item!r}", err=True)
            raise typer.Exit(USAGE_ERROR)
        values[name.strip()] = value.strip()
    try:
        site.configure(**values)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(USAGE_ERROR) from None
    except ObjectDoesNotExist:
        typer.echo("unknown organisation code", err=True)
        raise typer.Exit(1) from None
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            typer.echo(f"{name}: {'; '.join(messages)}", err=True)
        raise typer.Exit(1) from None
    site_show()


def register(app: typer.Typer) -> None:
    app.add_typer(site_app, name="site")
    app.add_typer(calendar_app, name="calendar")
    app.add_typer(keys_app, name="keys")
    app.command("backup")(backup)
    app.command("restore")(restore)
