"""``tongban security ...``: run the detection rules now, list the incidents."""

from __future__ import annotations

import typer

security_app = typer.Typer(help="信息安全运营 security operations: detection rules and security incidents.",
                           no_args_is_help=True)


@security_app.command("scan")
def scan(rule: list[str] = typer.Option(None, "--rule", "-r",
                                        help="Run only this rule (repeatable); default: every registered rule")) -> None:
    """Run the detection rules over the platform's logs; open an incident (and its response process) per new
    finding. Prints one line per opened incident and a summary line; exit 1 when a rule failed."""
    from .rules import RULES
    from .services import scan as run

    unknown = [r for r in rule or [] if r not in RULES]
    if unknown:
        typer.echo(f"error: unknown rule(s): {', '.join(unknown)} (registered: {', '.join(RULES.keys())})", err=True)
        raise typer.Exit(2)
    result = run(rules=list(rule) if rule else None)
    for incident in result.opened:
        typer.echo(f"opened incident #{incident.pk} severity={incident.severity} rule={incident.rule} "
                   f"affected={incident.affected.count()}: {incident.title}")
    for error in result.errors:
        typer.echo(f"rule failed: {error}", err=True)
    typer.echo(f"scan: rules={len(rule) if rule else len(RULES)} findings={len(result.findings)} "
               f"opened={len(result.opened)} already_handled={len(result.skipped)} errors={len(result.errors)}")
    if result.errors:
        raise typer.Exit(1)


@security_app.command("incidents")
def incidents(status: str = typer.Option("", help="Only this status (triage, containment, notification, report, "
                                                   "closed)")) -> None:
    """List the security incidents, newest first."""
    from django.utils import timezone

    from .selectors import incidents as listed

    for i in listed(status=status)[:200]:
        typer.echo(f"#{i.pk} {timezone.localtime(i.opened_at):%Y-%m-%d %H:%M} {i.severity} {i.status} {i.rule}: "
                   f"{i.title}")


def register(app: typer.Typer) -> None:
    app.add_typer(security_app, name="security")
