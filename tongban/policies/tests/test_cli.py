"""``tongban policy match [--policy CODE] [--dry-run]``: one line per policy, last line ``matched=N``."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from tongban.policies import services
from tongban.policies.cli import register
from tongban.policies.models import PolicyMatch

from .conftest import ELDERLY, REFUND, STARTUP

pytestmark = pytest.mark.django_db
app = typer.Typer()
register(app)
runner = CliRunner()


def test_match_prints_per_policy_and_the_total_last(population):
    services.save_policy(ELDERLY, publish=True)
    services.save_policy(REFUND, publish=True)
    services.save_policy(STARTUP)
    dry = runner.invoke(app, ["policy", "match", "--policy", "T-CYBT", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    lines = dry.output.strip().splitlines()
    assert lines[0].startswith("T-CYBT\t") and "matched=1" in lines[0] and lines[-1] == "matched=1"
    assert not PolicyMatch.objects.exists()
    real = runner.invoke(app, ["policy", "match"])
    assert real.exit_code == 0, real.output
    assert real.output.strip().splitlines()[-1] == "matched=4"
    assert PolicyMatch.objects.count() == 4
    one = runner.invoke(app, ["policy", "match", "--policy", "T-GLJT"])
    assert one.output.strip().splitlines()[-1] == "matched=1" and "new=0" in one.output
    missing = runner.invoke(app, ["policy", "match", "--policy", "NOPE"])
    assert missing.exit_code == 1
