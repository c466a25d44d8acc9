"""``tongban exchange ...``: verify the access log, sign a tree head, manage client keys and grants."""

from __future__ import annotations

import typer

exchange_app = typer.Typer(help="数据共享交换 data exchange: access log (查询留痕), clients, grants.",
                           no_args_is_help=True)


@exchange_app.command("verify-log")
def verify_log() -> None:
    """Recompute every leaf and the Merkle tree; check every signed tree head.

    Exit 0 printing the tree size and root hash; exit 1 naming the first bad entry (seq) or tree head.
    """
    from .accesslog import verify_log as run

    report = run()
    if report.ok:
        typer.echo(f"tree_size={report.tree_size}")
        typer.echo(f"root_hash={report.root_hash}")
        typer.echo(f"signed tree heads checked: {report.heads_checked}, all valid")
        if report.pending:
            typer.echo(f"entries awaiting sequencing (checked, not yet in the tree): {report.pending}")
        return
    if report.first_bad_seq is not None:
        typer.echo(f"FIRST BAD ENTRY: seq {report.first_bad_seq}", err=True)
    elif report.first_bad_head is not None:
        typer.echo(f"FIRST BAD TREE HEAD: #{report.first_bad_head}", err=True)
    else:
        typer.echo(f"LOG DOES NOT VERIFY: {report.problems[0]}", err=True)
    for problem in report.problems[:20]:
        typer.echo(f"  {problem}", err=True)
    if len(report.problems) > 20:
        typer.echo(f"  … and {len(report.problems) - 20} more", err=True)
    raise typer.Exit(1)


@exchange_app.command("sth")
def sth() -> None:
    """Sequence pending entries, sign a tree head of the access log now and print it."""
    from .accesslog import sign_tree_head

    head = sign_tree_head()
    typer.echo(f"tree_size={head.tree_size}")
    typer.echo(f"root_hash={head.root_hash}")
    typer.echo(f"timestamp={head.timestamp.isoformat()}")
    typer.echo(f"key_id={head.key_id}")
    typer.echo(f"signature={head.signature}")


@exchange_app.command("create-client")
def create_client(org: str = typer.Argument(..., help="Organisation code of the consuming department"),
                  name: str = typer.Argument(..., help="System name, e.g. 社保业务系统")) -> None:
    """Register a consuming system and print its API key (shown once; only a hash is kept)."""
    from .errors import ExchangeError
    from .services import create_client as create

    try:
        client, key = create(name=name, organisation=org)
    except ExchangeError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"client={client.pk} organisation={client.organisation.code}")
    typer.echo(f"X-Tongban-Client: {key}")


@exchange_app.command("expire-grants")
def expire_grants() -> None:
    """Mark grants past their expiry as expired."""
    from .services import expire_grants as run

    typer.echo(f"expired={run()}")


def register(app: typer.Typer) -> None:
    app.add_typer(exchange_app, name="exchange")
