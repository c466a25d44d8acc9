"""Command line: ``tongban supervision load-entities FILE | recompute-credit | plans | draw PLAN_CODE |
redraw DRAW_ID | verify-log | train-risk | scan-risks``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

supervision_app = typer.Typer(help="事中事后监管 supervision: entity register, credit, 双随机 draws.",
                              no_args_is_help=True)


def _fail(exc: Exception) -> None:
    from .errors import SupervisionError

    if isinstance(exc, SupervisionError):
        typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
        raise typer.Exit(1)
    raise exc


@supervision_app.command("load-entities")
def load_entities(path: Annotated[Path, typer.Argument(help="CSV: uscc,name,kind,division,address,industry,"
                                                            "legal_representative,established_on,departments")]) -> None:
    """Load a market-entity register file; a bad row names its row and field and nothing is written."""
    from . import services

    try:
        count = services.load_entities(path)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    typer.echo(f"loaded {count} entities")


@supervision_app.command("recompute-credit")
def recompute_credit() -> None:
    """Recompute every entity's credit grade (A–D) from its events, with decay; prints the count per grade."""
    from . import services

    counts = services.recompute_credit()
    typer.echo(" ".join(f"{g}={n}" for g, n in counts.items()))


@supervision_app.command("plans")
def plans() -> None:
    """The draw plans, one per line, the plan code first."""
    from . import selectors

    for p in selectors.plans():
        ratios = ",".join(f"{g}:{r:g}" for g, r in sorted(p.ratios.items()))
        typer.echo(f"{p.code}\t{p.department.code}\t{p.name}\tratios={ratios}\t"
                   f"{p.period_start:%Y-%m-%d}..{p.period_end:%Y-%m-%d}")


@supervision_app.command("draw")
def draw(plan_code: str, seed: str = typer.Option("", help="The seed (default: 128 random bits, printed).")) -> None:
    """Draw entities and inspectors for a plan; the last line is ``draw=ID seed=SEED``."""
    from . import services

    try:
        d = services.run_draw(plan_code, seed=seed or None)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    for row in d.outcome:
        typer.echo(f"{row['uscc']}\t{row['grade']}\t{','.join(row['inspectors'])}")
    typer.echo(f"plan={d.plan.code} algorithm={d.algorithm} entities={len(d.outcome)} "
               f"eligible={sum(len(v) for v in d.inputs['entities'].values())} log_index={d.log_index}")
    typer.echo(f"draw={d.pk} seed={d.seed}")


@supervision_app.command("redraw")
def redraw(draw_id: str) -> None:
    """Recompute a draw from its published seed and inputs: ``identical`` (exit 0) or the first difference (exit 1)."""
    from . import services

    try:
        difference = services.redraw(draw_id)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    if difference is None:
        typer.echo("identical")
        return
    typer.echo(difference)
    raise typer.Exit(1)


@supervision_app.command("train-risk")
def train_risk(samples: int = typer.Option(20000, help="Synthetic entities (a quarter is held out)."),
               seed: int = typer.Option(20261205, help="Seed of the synthetic data and the split.")) -> None:
    """Train the risk-warning model on synthetic data with a known signal; prints the held-out ROC AUC."""
    from . import services

    m = services.train_risk_model(samples=samples, seed=seed)
    weights = " ".join(f"{name}={w:+.2f}" for name, w in zip(m.features, m.weights, strict=True))
    typer.echo(f"auc={m.auc:.4f} train={m.train_size} test={m.test_size} intercept={m.intercept:+.2f} {weights}")


@supervision_app.command("scan-risks")
def scan_risks(threshold: float = typer.Option(0.5, help="Model score (0–1) from which an entity is warned.")) -> None:
    """Score every active entity (model + DMN rules); warnings become enforcement leads with a deadline."""
    from . import services

    try:
        result = services.scan_risks(threshold=threshold)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    typer.echo(" ".join(f"{k}={v}" for k, v in result.items()))


@supervision_app.command("verify-log")
def verify_log() -> None:
    """Recompute the supervision log's Merkle roots from its entries: ``valid SIZE ROOT`` or the first mismatch."""
    from . import selectors, services

    problem = services.verify_log()
    if problem:
        typer.echo(problem, err=True)
        raise typer.Exit(1)
    last = selectors.log_entries().order_by("-index").first()
    typer.echo(f"valid {last.index + 1 if last else 0} {last.root if last else '-'}")


def register(app: typer.Typer) -> None:
    app.add_typer(supervision_app, name="supervision")
