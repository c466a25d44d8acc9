"""The command line: plans, draw, redraw (the acceptance interface), load-entities with a bad row."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from tongban.supervision.cli import register
from tongban.supervision.models import Draw, MarketEntity

from .conftest import code

runner = CliRunner()
app = typer.Typer()
register(app)


def test_plans_draw_redraw(world):
    plans = runner.invoke(app, ["supervision", "plans"])
    assert plans.exit_code == 0 and plans.output.splitlines()[0].startswith("P-1\t")
    drawn = runner.invoke(app, ["supervision", "draw", "P-1", "--seed", "cli-seed"])
    assert drawn.exit_code == 0, drawn.output
    last = drawn.output.strip().splitlines()[-1]
    draw = Draw.objects.get()
    assert last == f"draw={draw.pk} seed=cli-seed"
    same = runner.invoke(app, ["supervision", "redraw", str(draw.pk)])
    assert (same.exit_code, same.output.strip()) == (0, "identical")
    outcome = [dict(r) for r in draw.outcome]
    outcome[2] = {**outcome[2], "uscc": code(77)}
    Draw.objects.filter(pk=draw.pk).update(outcome=outcome)
    changed = runner.invoke(app, ["supervision", "redraw", str(draw.pk)])
    assert changed.exit_code == 1 and changed.output.startswith("entry 2:")
    missing = runner.invoke(app, ["supervision", "draw", "NOPE"])
    assert missing.exit_code == 1 and "NOPE" in missing.output
    assert runner.invoke(app, ["supervision", "verify-log"]).output.startswith("valid 1 ")
    assert runner.invoke(app, ["supervision", "recompute-credit"]).output.strip().startswith("A=")


def test_load_entities_bad_row_writes_nothing(demo_core, tmp_path):
    path = tmp_path / "register.csv"
    path.write_text("uscc,name,division,industry\n"
                    f"{code(1)},甲公司,910102001000,H\n"
                    f"{code(2)},乙公司,910102001000,ZZ\n", encoding="utf-8")
    result = runner.invoke(app, ["supervision", "load-entities", str(path)])
    assert result.exit_code == 1 and "第 3 行" in result.output and "industry" in result.output
    assert not MarketEntity.objects.exists()
    path.write_text("uscc,name,division,industry\n" f"{code(1)},甲公司,910102001000,H\n", encoding="utf-8")
    assert runner.invoke(app, ["supervision", "load-entities", str(path)]).output.strip() == "loaded 1 entities"
