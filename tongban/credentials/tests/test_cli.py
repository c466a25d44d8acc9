from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from tongban.credentials import conf
from tongban.credentials.cli import register
from tongban.credentials.models import Credential, SealKey

pytestmark = pytest.mark.django_db
runner = CliRunner()


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_issue_demo_revoke_and_verify(licence_types, tmp_path):
    app = _cli()
    result = runner.invoke(app, ["credentials", "issue-demo", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    credential = Credential.objects.get(pk=out["id"])
    assert out["licence_number"] == credential.licence_number and out["verify"].endswith(f"/verify/{out['id']}/")
    pdf_file = tmp_path / "l.pdf"
    pdf_file.write_bytes((conf.media_root() / credential.pdf_path).read_bytes())
    vc_file = tmp_path / "l.jwt"
    vc_file.write_text(credential.vc_jws)
    assert runner.invoke(app, ["credentials", "verify", str(pdf_file)]).exit_code == 0
    assert runner.invoke(app, ["credentials", "verify", str(vc_file)]).exit_code == 0
    revoked = runner.invoke(app, ["credentials", "revoke", out["id"], "--reason", "演示撤销"])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    failed = runner.invoke(app, ["credentials", "verify", str(vc_file)])
    assert failed.exit_code == 1 and "credentials.revoked" in failed.output
    again = runner.invoke(app, ["credentials", "revoke", out["id"], "--reason", "x"])
    assert again.exit_code == 1 and "credentials.already_revoked" in again.output
    natural = runner.invoke(app, ["credentials", "issue-demo", "--type", "social_security_card"])
    assert natural.exit_code == 0 and "张三" in natural.output
    unknown = runner.invoke(app, ["credentials", "issue-demo", "--type", "nope"])
    assert unknown.exit_code == 1 and "credentials.unknown_licence_type" in unknown.output


def test_rotate_key(licence_types):
    app = _cli()
    first = runner.invoke(app, ["credentials", "rotate-key", "yx-scjg"])
    second = runner.invoke(app, ["credentials", "rotate-key", "yx-scjg"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert SealKey.objects.filter(organisation__code="yx-scjg", algorithm="Ed25519").count() == 2
    assert SealKey.objects.filter(organisation__code="yx-scjg", retired_at__isnull=True).count() == 2
    assert runner.invoke(app, ["credentials", "rotate-key", "nowhere"]).exit_code == 1
    listing = runner.invoke(app, ["credentials", "keys", "--org", "yx-scjg"])
    assert "retired" in listing.output and "active" in listing.output
