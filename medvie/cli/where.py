"""What `make run` prints at the end: where each output is and how to look at it."""

from __future__ import annotations

import json

import typer

from medvie import paths
from medvie.env import project_root

# (path, what it is), in pipeline order; only those that exist are shown
OUTPUTS = [
    (f"{paths.INGESTED}/records.jsonl", f"ingested records (rejections: {paths.INGESTED}/rejected.jsonl)"),
    (paths.VALIDATION_MD, "data validation report"),
    (paths.SELECTED, "the diverse training sample"),
    (paths.DIVERSITY, "diversity of the sample vs random"),
    (paths.QUERIES, "KV queries (train/val/test)"),
    (paths.GRPO_MODEL, "GRPO-tuned model (LoRA adapter)"),
    (paths.TRAIN_PLOTS, "training curves (dvc plots show)"),
    (paths.EVAL_METRICS, "test metrics per model (dvc metrics show)"),
    (paths.EVAL_REPORT, "evaluation report with the worst cases"),
    (paths.REGISTRY, "registered model version and aliases"),
]


def print_locations() -> None:
    root = project_root()
    typer.echo("\nOutputs:")
    for rel, what in OUTPUTS:
        if (root / rel).exists():
            typer.echo(f"  {rel:<32} {what}")
    registry = root / paths.REGISTRY
    if registry.exists():
        info = json.loads(registry.read_text(encoding="utf-8"))
        name = info.get("name", "medvie")
        typer.echo(f"\nRegistered model: models:/{name}@champion (this run: version {info.get('version')})")
        typer.echo(f"  medvie extract IMAGE --model models:/{name}@champion")
    typer.echo("\nLook at it:")
    typer.echo("  .venv/bin/dvc metrics show")
    typer.echo("  .venv/bin/mlflow ui --backend-store-uri sqlite:///mlflow.db   # then http://127.0.0.1:5000")
