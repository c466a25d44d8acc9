"""Command line: ``tongban archive verify PATH`` and ``tongban credentials ...``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

archive_app = typer.Typer(help="电子档案 e-archives (BagIt).", no_args_is_help=True)
credentials_app = typer.Typer(help="电子证照 e-licences: issue, revoke, keys, verify.", no_args_is_help=True)


@archive_app.command("verify")
def archive_verify(path: Annotated[Path, typer.Argument(help="The bag directory.")]) -> None:
    """Check an archive's fixity: exit 0 "valid" with the file count; non-zero naming the failing files."""
    from .archive import verify_archive

    check = verify_archive(path)
    if check.valid:
        typer.echo(f"valid: {check.path} ({check.file_count} files, "
                   f"retention until {check.info.get('Tongban-Retention-Until', '-')})")
        return
    typer.echo(f"invalid: {check.path}", err=True)
    for problem in check.problems:
        typer.echo(f"  {problem}", err=True)
    raise typer.Exit(1)


@archive_app.command("list")
def archive_list() -> None:
    """List the archived cases."""
    from .models import ArchiveRecord

    for record in ArchiveRecord.objects.all():
        typer.echo(f"{record.application_ref}\t{record.file_count} files\tuntil {record.retention_until}\t{record.path}")


def _fail(exc: Exception) -> None:
    from .errors import CredentialError

    if isinstance(exc, CredentialError):
        typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
        raise typer.Exit(1)
    raise exc


@credentials_app.command("issue-demo")
def issue_demo(
    licence_type: str = typer.Option("business_licence", "--type", help="Licence type code."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Issue a demo e-licence (to the demo company or zhangsan) and print its id and links."""
    from . import conf, demo, selectors

    try:
        credential = demo.issue_one(licence_type)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    base = f"{conf.public_url()}/api/credentials/{credential.id}"
    out = {"id": str(credential.id), "licence_number": credential.licence_number,
           "licence_type": credential.licence_type.code, "holder": credential.holder_name,
           "verify": selectors.verify_url(credential.id), "pdf": f"{base}/pdf", "vc": f"{base}/vc",
           "status": f"{base}/status"}
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        for key, value in out.items():
            typer.echo(f"{key}: {value}")


def _status_command(action: str, credential_id: str, reason: str) -> None:
    from . import services

    try:
        credential = services.change_status(credential_id, action, reason=reason)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    typer.echo(f"{credential.licence_number}: {credential.status} ({credential.status_reason})")


@credentials_app.command("revoke")
def revoke(credential_id: str = typer.Argument(...), reason: str = typer.Option(..., "--reason")) -> None:
    """Revoke a credential (final)."""
    _status_command("revoke", credential_id, reason)


@credentials_app.command("suspend")
def suspend(credential_id: str = typer.Argument(...), reason: str = typer.Option(..., "--reason")) -> None:
    """Suspend a credential."""
    _status_command("suspend", credential_id, reason)


@credentials_app.command("reinstate")
def reinstate(credential_id: str = typer.Argument(...), reason: str = typer.Option(..., "--reason")) -> None:
    """Reinstate a suspended credential."""
    _status_command("reinstate", credential_id, reason)


@credentials_app.command("rotate-key")
def rotate_key(org: str = typer.Argument(..., help="Organisation code, e.g. scjg."),
               reason: str = typer.Option("", "--reason")) -> None:
    """Rotate an organisation's signing keys (old keys keep verifying, listed in the JWKS)."""
    from . import keys

    try:
        new = keys.rotate_org_keys(org, reason=reason or "scheduled rotation")
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    for key in new:
        typer.echo(f"{key.algorithm}\t{key.kid}")


@credentials_app.command("keys")
def list_keys(org: str = typer.Option("", "--org")) -> None:
    """List signing keys (kid, algorithm, created, retired)."""
    from .models import SealKey

    keys = SealKey.objects.select_related("organisation").all()
    if org:
        keys = keys.filter(organisation__code=org)
    for key in keys:
        typer.echo(f"{key.organisation.code}\t{key.algorithm}\t{key.kid}\t{key.created_at:%Y-%m-%d %H:%M}\t"
                   f"{'retired ' + key.retired_at.strftime('%Y-%m-%d %H:%M') if key.retired_at else 'active'}")


@credentials_app.command("verify")
def verify(path: Annotated[Path, typer.Argument(help="A sealed PDF or a file with a VC (compact JWS).")]) -> None:
    """Verify a licence PDF or VC file: exit 0 when valid, 1 with the reason otherwise."""
    from . import verification

    if not path.is_file():
        typer.echo(f"error: {path} not found", err=True)
        raise typer.Exit(2)
    raw = path.read_bytes()
    result = verification.verify_pdf(raw) if raw[:1024].find(b"%PDF-") >= 0 else verification.verify_vc(
        raw.decode(errors="replace"))
    line = f"{result.code}: {result.reason}"
    if result.licence_number:
        line += f" [{result.licence_name} {result.licence_number}]"
    if result.valid:
        typer.echo(f"valid: {line}")
        return
    typer.echo(f"invalid: {line}", err=True)
    raise typer.Exit(1)


@credentials_app.command("list")
def list_credentials(holder: str = typer.Option("", "--holder", help="Holder id number / credit code.")) -> None:
    """List issued credentials."""
    from tongban.core import pii

    from .models import Credential

    qs = Credential.objects.select_related("licence_type", "issuer")
    if holder:
        qs = qs.filter(pii.matching("holder_id_number", holder))
    for c in qs:
        typer.echo(f"{c.id}\t{c.licence_number}\t{c.licence_type.name}\t{c.holder_name}\t{c.status}")


def register(app: typer.Typer) -> None:
    app.add_typer(archive_app, name="archive")
    app.add_typer(credentials_app, name="credentials")
