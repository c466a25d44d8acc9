"""``tongban insight ...``: indicators and event-log export (each command documents itself)."""

from __future__ import annotations

import typer

insight_app = typer.Typer(help="评估与洞察 insight: indicators, event-log export, process mining.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(insight_app, name="insight")


from .mining.cli import add_commands as _mining_commands  # noqa: E402  (process mining: export-log, mine)

_mining_commands(insight_app)
