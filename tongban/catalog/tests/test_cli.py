"""``tongban load-catalog``, ``export-catalog`` and ``lists ...``: in process, and once as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from tongban.catalog import cli
from tongban.catalog.models import DutyList, ServiceItem
from tongban.core.models import AuditLog

from .conftest import SMALL, line_of


@pytest.fixture
def run():
    app = typer.Typer()
    cli.register(app)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args))

    return invoke


@pytest.mark.django_db
def test_load_catalog_ok_then_idempotent(run, demo_core):
    result = run("load-catalog", str(SMALL), "--user", "admin", "--reason", "首次导入")
    assert result.exit_code == 0, result.output
    assert "导入完成" in result.stdout and "yx-scjg v2" in result.stdout
    assert ServiceItem.objects.count() == 6
    item = ServiceItem.objects.get(code="T-GA-BA-0001")
    assert item.history.latest().history_user.username == "admin"
    assert AuditLog.objects.filter(action="catalog.import", reason="首次导入", actor__username="admin").exists()
    again = run("load-catalog", str(SMALL))
    assert again.exit_code == 0
    assert DutyList.objects.count() == 3


@pytest.mark.django_db
def test_load_catalog_errors_go_to_stderr_and_change_nothing(run, demo_core, small_doc, tmp_path):
    small_doc["items"][0]["competent_department"] = "yx-ghost"
    small_doc["items"][1]["exercise_level"] = "galaxy"
    path = tmp_path / "bad.json"
    text = json.dumps(small_doc, ensure_ascii=False, indent=2)
    path.write_text(text, encoding="utf-8")
    result = run("load-catalog", str(path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}:{line_of(text, 'yx-ghost')}: items[0].competent_department: 未知的机构编码 “yx-ghost”"
    assert lines[1].startswith(f"{path}:{line_of(text, 'galaxy')}: items[1].exercise_level: 取值 \"galaxy\" 无效")
    assert lines[2] == "2 个错误，未做任何修改。"
    assert result.stdout == ""
    assert not ServiceItem.objects.exists() and not DutyList.objects.exists()


@pytest.mark.django_db
def test_load_catalog_refuses_hostile_files_with_line_numbers(run, demo_core, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 2000 + "]" * 2000)
    result = run("load-catalog", str(deep))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [f"{deep}:1: JSON 嵌套层数过深（超过 100 层）", "1 个错误，未做任何修改。"]
    numbers = tmp_path / "numbers.json"
    numbers.write_text('{\n  "format": "tongban-catalog/1",\n  "items": [\n    NaN,\n    ' + "7" * 5000 + "\n  ]\n}\n")
    result = run("load-catalog", str(numbers))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{numbers}:4: items[0]: JSON 不允许 NaN，数值须是有限的数字",
        f"{numbers}:5: items[1]: 整数位数过多（5000 位，最多 4300 位）",
        "2 个错误，未做任何修改。",
    ]
    assert not ServiceItem.objects.exists() and not DutyList.objects.exists()


@pytest.mark.django_db
def test_dry_run(run, demo_core):
    result = run("load-catalog", str(SMALL), "--dry-run")
    assert result.exit_code == 0 and "试运行" in result.stdout
    assert not ServiceItem.objects.exists()


@pytest.mark.django_db
def test_export_catalog_round_trip(run, catalog_small, tmp_path):
    out = tmp_path / "all.json"
    result = run("export-catalog", "--output", str(out))
    assert result.exit_code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["format"] == "tongban-catalog/1" and len(data["items"]) == 6 and len(data["duty_lists"]) == 3
    assert run("load-catalog", str(out)).exit_code == 0
    assert DutyList.objects.count() == 3
    stdout = run("export-catalog")
    assert json.loads(stdout.stdout) == data


@pytest.mark.django_db
def test_lists_export_and_reimport(run, catalog_small, tmp_path):
    csv_path = tmp_path / "powers.csv"
    result = run("lists", "export", "yx-scjg", "--format", "csv", "--kind", "powers", "--output", str(csv_path))
    assert result.exit_code == 0, result.output
    assert csv_path.read_text(encoding="utf-8-sig").splitlines()[0] == "职权编码,职权名称,职权类型,实施依据,实施主体,对应事项编码,备注"
    xlsx_path = tmp_path / "lists.xlsx"
    assert run("lists", "export", "yx-scjg", "--format", "xlsx", "--output", str(xlsx_path)).exit_code == 0
    assert openpyxl.load_workbook(xlsx_path).sheetnames == ["权力清单", "责任清单"]
    json_path = tmp_path / "resp.json"
    assert run("lists", "export", "yx-scjg", "--format", "json", "--kind", "responsibilities",
               "--output", str(json_path)).exit_code == 0
    feed = json.loads(json_path.read_text(encoding="utf-8"))
    assert (feed["version"], feed["effective_date"], len(feed["responsibilities"])) == (2, "2026-07-01", 3)
    assert run("lists", "export", "yx-scjg", "--format", "csv", "--output", str(csv_path)).exit_code == 1
    assert run("lists", "export", "nope", "--format", "xlsx", "--output", str(xlsx_path)).exit_code == 1

    result = run("load-catalog", str(xlsx_path), "--organisation", "yx-wsjk", "--effective-date", "2026-03-01")
    assert result.exit_code == 0, result.output
    assert DutyList.objects.get(organisation__code="yx-wsjk").powers.count() == 3
    bad = run("load-catalog", str(xlsx_path))  # no --organisation
    assert bad.exit_code == 1 and "--organisation" in bad.stderr
    assert run("lists", "versions", "yx-scjg").exit_code == 0
    diff = run("lists", "diff", "yx-scjg", "1", "2")
    assert diff.exit_code == 0 and "+ 权力事项 P04" in diff.stdout and "- 权力事项 P03" in diff.stdout


def test_acceptance_exit_codes_as_a_real_subprocess(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["TONGBAN_HOME"] = str(tmp_path / "home")

    def tongban(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tongban", *args], env=env, capture_output=True, text=True,
                              timeout=300)

    assert tongban("migrate").returncode == 0
    empty = tmp_path / "empty.json"
    empty.write_text('{"format": "tongban-catalog/1", "items": []}\n')
    ok = tongban("load-catalog", str(empty))
    assert ok.returncode == 0, ok.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "format": "tongban-catalog/1",\n  "items": [\n    {"code": "A-1"}\n  ]\n}\n')
    result = tongban("load-catalog", str(bad))
    assert result.returncode == 1
    assert f"{bad}:4: items[0]: 缺少必填字段 “name”" in result.stderr.splitlines()
