"""``tongban calendar ...``: in process (CliRunner) and, for the acceptance commands, as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta

import chinese_calendar
import pytest
import typer
from typer.testing import CliRunner

from tongban.core import cli
from tongban.core.models import AuditLog, CalendarDay, Division


@pytest.fixture
def run():
    app = typer.Typer()
    cli.register(app)

    @app.callback()
    def _root() -> None:  # keep `calendar` a sub-command even though it is the only one
        pass

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["calendar", *args])

    return invoke


def test_acceptance_commands_as_a_real_subprocess(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["TONGBAN_HOME"] = str(tmp_path)  # an empty home: no database yet, national calendar only

    def tongban(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tongban", "calendar", *args],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )

    added = tongban("add-working-days", "2026-09-30", "5")
    assert (added.returncode, added.stdout) == (0, "2026-10-13\n")
    counted = tongban("working-days", "2026-09-30", "2026-10-12")
    assert (counted.returncode, counted.stdout) == (0, "4\n")
    bad = tongban("add-working-days", "2026-09-30", "-1")
    assert bad.returncode != 0 and bad.stdout == "" and "N must be 0 or more" in bad.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "n"),
    [("2026-09-30", "5"), ("2026-02-13", "1"), ("2026-02-13", "6"), ("2026-01-01", "0"), ("2025-12-31", "200")],
)
def test_add_working_days_prints_only_the_date(run, start, n):
    result = run("add-working-days", start, n)
    assert result.exit_code == 0, result.stderr
    # check against chinese_calendar directly
    d, left = date.fromisoformat(start), int(n)
    while left:
        d = date.fromordinal(d.toordinal() + 1)
        left -= chinese_calendar.is_workday(d)
    assert result.stdout == f"{d.isoformat()}\n"
    assert result.stderr == ""


@pytest.mark.django_db
def test_working_days_prints_only_the_count(run):
    result = run("working-days", "2026-09-30", "2026-10-12")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "4\n", "")
    result = run("working-days", "2026-02-13", "2026-03-02")
    assert result.stdout == f"{sum(chinese_calendar.is_workday(date(2026, 2, 13) + timedelta(days=i)) for i in range(1, 18))}\n"
    assert run("working-days", "2026-10-12", "2026-09-30").stdout == "0\n"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add-working-days", "2026-09-31", "5"), "no such day"),
        (("add-working-days", "2026/09/30", "5"), "expected YYYY-MM-DD"),
        (("add-working-days", "2026-09-30", "-3"), "N must be 0 or more"),
        (("add-working-days", "2026-09-30", "five"), "whole number"),
        (("working-days", "2026-09-30", "tomorrow"), "TO: invalid date"),
        (("add-working-days", "2026-09-30", "5", "--division", "nope"), "unknown division code"),
    ],
)
def test_bad_input_is_a_clear_error(run, args, message):
    result = run(*args)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert message in result.stderr


@pytest.mark.django_db
def test_uncovered_years_warn_on_stderr_only(run):
    result = run("add-working-days", "2026-12-30", "5")
    assert result.exit_code == 0
    assert result.stdout == "2027-01-06\n"  # Thu 12-31, Fri 1-1, then Mon 1-4 .. Wed 1-6
    assert "2027" in result.stderr and "warning" in result.stderr
    result = run("working-days", "2026-12-01", "2027-01-29")
    assert result.stdout.strip().isdigit() and "2027" in result.stderr
    result = run("working-days", "2001-09-30", "2027-01-01")
    assert "no holiday data for 2001–2003, 2027:" in result.stderr
    too_far = run("add-working-days", "2026-09-30", "99999999")
    assert too_far.exit_code != 0 and too_far.stdout == "" and "beyond year 9999" in too_far.stderr
    # once a local calendar covers the year, no warning
    CalendarDay.objects.create(date=date(2027, 1, 1), is_workday=False, note="元旦")
    result = run("add-working-days", "2026-12-30", "5")
    assert (result.stdout, result.stderr) == ("2027-01-07\n", "")


@pytest.mark.django_db
def test_division_option_uses_the_local_calendar(run, demo_core):
    county = Division.objects.get(code="910102000000")  # 青山区
    CalendarDay.objects.create(date=date(2026, 10, 12), division=county, is_workday=False, note="区庆")
    assert run("add-working-days", "2026-09-30", "5").stdout == "2026-10-13\n"
    assert run("add-working-days", "2026-09-30", "5", "--division", "910102000000").stdout == "2026-10-14\n"
    # a township below the county inherits it
    assert run("working-days", "2026-09-30", "2026-10-12", "--division", "910102001000").stdout == "3\n"


@pytest.mark.django_db
def test_import_all_or_nothing_with_file_line_errors(run, tmp_path, demo_core):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,is_workday,note,division_code\n2027-01-01,0,元旦\n2027-02-30,1,\n2027-01-02,x,\n",
                   encoding="utf-8")
    result = run("import", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:3: " in result.stderr and "no such day" in result.stderr
    assert f"{bad}:4: " in result.stderr and "is_workday" in result.stderr
    assert CalendarDay.objects.count() == 0
    assert not AuditLog.objects.filter(action="calendar.import").exists()

    good = tmp_path / "good.csv"
    good.write_bytes("2027-01-01,休息,元旦\n2027-02-06,上班,春节调休,910102000000\n".encode("gb18030"))
    result = run("import", str(good))
    assert result.exit_code == 0, result.stderr
    assert "2 created" in result.stdout
    assert CalendarDay.objects.get(date=date(2027, 1, 1), division=None).note == "元旦"
    assert CalendarDay.objects.get(date=date(2027, 2, 6)).division.code == "910102000000"
    assert AuditLog.objects.filter(action="calendar.import").count() == 1
    # 2027-02-06 is a Saturday: a working day only in 青山区
    assert run("working-days", "2027-02-05", "2027-02-06", "--division", "910102000000").stdout == "1\n"
    assert run("working-days", "2027-02-05", "2027-02-06").stdout == "0\n"

    missing = run("import", str(tmp_path / "missing.csv"))
    assert missing.exit_code != 0 and "cannot read" in missing.stderr


@pytest.mark.django_db
def test_show_grid_and_list(run):
    CalendarDay.objects.create(date=date(2026, 6, 15), is_workday=False, note="地方节日")
    grid = run("show", "2026")
    assert grid.exit_code == 0
    assert "2026年10月" in grid.stdout and "10班" in grid.stdout and " 1休" in grid.stdout
    assert "15休" in grid.stdout  # the local rest day
    working = sum(chinese_calendar.is_workday(date.fromordinal(o))
                  for o in range(date(2026, 1, 1).toordinal(), date(2026, 12, 31).toordinal() + 1)) - 1
    assert f"working days: {working}" in grid.stdout
    listed = run("show", "2026", "--list")
    lines = listed.stdout.splitlines()
    assert "2026-10-10 周六 上班 全国 国庆节调休上班" in lines
    assert "2026-06-15 周一 休息 地方 地方节日" in lines
    assert not any(line.startswith("2026-10-03") for line in lines)  # a Saturday at rest is standard
    future = run("show", "2031", "--list")
    assert future.exit_code == 0 and future.stdout == "" and "no holiday data for 2031" in future.stderr
    assert run("show", "0").exit_code != 0
