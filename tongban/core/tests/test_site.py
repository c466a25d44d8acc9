"""The site record (站点配置) and its command line: ``tongban site show`` / ``tongban site set NAME=VALUE``."""

from __future__ import annotations

import datetime as dt

import pytest
import typer
from typer.testing import CliRunner

from tongban.core import site
from tongban.core.cli import register
from tongban.core.models import SiteConfiguration


@pytest.fixture
def cli():
    app = typer.Typer()
    register(app)
    return lambda *args: CliRunner().invoke(app, list(args))


@pytest.mark.django_db
def test_neutral_defaults_without_a_record(settings):
    settings.TONGBAN_PUBLIC_URL = None
    current = site.current()
    assert (current.city_name, current.platform_name, current.reference_prefix) == ("本市", "一网通办", "TB")
    assert current.issuer == "一网通办" and site.public_url() == "http://127.0.0.1:8000"
    assert site.reference_stem(dt.datetime(2026, 11, 25, 9, 0)) == ("TB20261125", 6)


@pytest.mark.django_db
def test_set_and_show_on_the_command_line(cli, demo_core):
    result = cli("site", "set", "city_name=某某市", "platform_name=某某市一网通办", "reference_prefix=MM",
                 "service_centre=yx-zwzx", "reference_format={prefix}{division}{date:%y%m}{seq:04d}",
                 "division_code=330100")
    assert result.exit_code == 0, result.output
    assert "platform_name=某某市一网通办" in result.output and "service_centre_code=yx-zwzx" in result.output
    assert site.reference_stem(dt.datetime(2026, 11, 25)) == ("MM3301002611", 4)
    shown = cli("site", "show").output
    assert "reference_prefix=MM" in shown and "time_zone=Asia/Shanghai" in shown and "public_url=" in shown


@pytest.mark.django_db
def test_a_bad_value_names_its_field_and_changes_nothing(cli, demo_core):
    before = SiteConfiguration.objects.get(pk=1).reference_prefix
    result = cli("site", "set", "reference_prefix=zz", "accent_colour=blue")
    assert result.exit_code == 1
    assert "reference_prefix" in result.output and "accent_colour" in result.output
    assert SiteConfiguration.objects.get(pk=1).reference_prefix == before
    assert cli("site", "set", "colour=#000000").exit_code == 2  # not a site setting
    assert cli("site", "set", "service_centre=nowhere").exit_code == 1  # unknown organisation


def test_the_port_becomes_the_public_url_only_when_none_is_configured(settings, monkeypatch):
    settings.TONGBAN_PUBLIC_URL = None
    monkeypatch.delenv("TONGBAN_PUBLIC_URL", raising=False)
    assert site.default_public_url_for_port(8101) == "http://127.0.0.1:8101"
    monkeypatch.setenv("TONGBAN_PUBLIC_URL", "https://zwfw.example.gov.cn/")
    assert site.default_public_url_for_port(8102) == "https://zwfw.example.gov.cn"
    assert site.absolute("/verify/x/") == "https://zwfw.example.gov.cn/verify/x/"
