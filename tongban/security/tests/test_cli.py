"""``tongban security scan`` prints one line per opened incident and a summary line."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from tongban.security.cli import register
from tongban.security.models import SecurityIncident

from .factories import LI, log

pytestmark = pytest.mark.django_db

app = typer.Typer()
register(app)


def test_scan_prints_each_opened_incident_and_a_summary(demo_core, settings):
    settings.TONGBAN_SECURITY_REFUSED_QUERIES = 3
    log(3, actor="client:社保业务系统", subjects=[LI])
    result = CliRunner().invoke(app, ["security", "scan"])
    assert result.exit_code == 0, result.output
    incident = SecurityIncident.objects.get()
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"opened incident #{incident.pk} severity=medium rule=exchange.refused_burst "
                               "affected=1: client:社保业务系统")
    assert lines[-1] == "scan: rules=4 findings=1 opened=1 already_handled=0 errors=0"
    again = CliRunner().invoke(app, ["security", "scan", "--rule", "exchange.refused_burst"])
    assert again.output.strip().splitlines() == ["scan: rules=1 findings=1 opened=0 already_handled=1 errors=0"]
    listed = CliRunner().invoke(app, ["security", "incidents"])
    assert f"#{incident.pk} " in listed.output and "triage" in listed.output


def test_scan_refuses_an_unknown_rule(db):
    result = CliRunner().invoke(app, ["security", "scan", "--rule", "nope"])
    assert result.exit_code == 2 and "unknown rule" in result.output
