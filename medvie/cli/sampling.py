"""`medvie` commands of the sampling area."""

from __future__ import annotations

from pathlib import Path

import typer

from medvie import paths
from medvie.cli.common import PARAMS_HELP


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("sample")(sample)


def sample(
    records: Path = typer.Option(Path(paths.INGESTED), help="ingested data set (records.jsonl + images/)"),
    out: Path = typer.Option(Path(paths.SELECTED), help="selected records"),
    metrics: Path = typer.Option(Path(paths.DIVERSITY), help="diversity report (diverse vs random)"),
    cache: Path = typer.Option(Path(paths.FEATURES), help="image feature cache, keyed by sha256"),
    n: int | None = typer.Option(None, help="records to pick (default: params.yaml sampling.n)"),
    strategy: str | None = typer.Option(None, help="diverse | random (default: sampling.strategy)"),
    seed: int | None = typer.Option(None, help="default: sampling.seed"),
    params: Path | None = typer.Option(None, help=PARAMS_HELP),
) -> None:
    """Pick diverse training records (k-center greedy on image, label and metadata features)."""
    import json

    from medvie.cli.common import load_params
    from medvie.sampling.pipeline import run_sample
    from medvie.settings import parse_params

    base = load_params(params)[0].sampling
    overrides = {k: v for k, v in {"n": n, "strategy": strategy, "seed": seed}.items() if v is not None}
    cfg = parse_params({"sampling": {**base.model_dump(), **overrides}}, source="options").sampling
    report = run_sample(cfg, records=records, out=out, metrics=metrics, cache=cache)
    summary = {
        s: {
            k: report[s][k]
            for k in (
                "n",
                "doc_type_coverage",
                "condition_coverage",
                "min_pairwise_distance",
                "mean_pairwise_distance",
            )
            if k in report[s]
        }
        for s in ("diverse", "random")
    }
    typer.echo(json.dumps({"strategy": cfg.strategy, "pool_size": report["pool_size"], **summary}, indent=2))
