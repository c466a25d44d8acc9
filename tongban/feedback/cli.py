"""Command line: ``tongban hotline train`` (retrain the 12345 classifier, report its cross-validated macro-F1) and
``tongban hotline classify TEXT``."""

from __future__ import annotations

import json

import typer

hotline_app = typer.Typer(help="12345 热线: 智能分类模型.", no_args_is_help=True)


@hotline_app.command("train")
def train(folds: int = typer.Option(5, "--folds", min=2, max=10, help="Cross-validation folds.")) -> None:
    """Retrain on the shipped corpus and the operators' corrections, store the model, print the stratified
    k-fold macro-F1 of the type and department models; the LAST line is ``macro_f1=0.NN`` (their mean)."""
    from . import conf, services

    evaluation = services.train(folds=folds)
    typer.echo(f"examples={evaluation.size} folds={evaluation.folds} model={conf.model_path()}")
    typer.echo(f"type_macro_f1={evaluation.type_macro_f1:.2f}")
    typer.echo(f"department_macro_f1={evaluation.department_macro_f1:.2f}")
    typer.echo(f"macro_f1={evaluation.macro_f1:.2f}")


@hotline_app.command("classify")
def classify(text: str = typer.Argument(..., help="The request as written down.")) -> None:
    """Print the proposed type, department and confidence as JSON."""
    from . import services
    from .errors import FeedbackError

    try:
        p = services.classify(text)
    except FeedbackError as exc:
        typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps({"type": p.type, "department": p.department, "confidence": p.confidence},
                          ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.add_typer(hotline_app, name="hotline")
