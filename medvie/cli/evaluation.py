"""`medvie` commands of the evaluation area: `evaluate`, `ocr-read`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from medvie.paths import SCHEMA, STAGES


def evaluate(
    max_queries: int = typer.Option(-1, help="override evaluate.max_queries (-1: keep, 0: all)"),
    models: str = typer.Option("", help="comma-separated override of evaluate.models"),
    no_mlflow: bool = typer.Option(False, "--no-mlflow", help="do not log to MLflow"),
) -> None:
    """Evaluate models + baselines on the test queries (what the `evaluate` stage runs)."""
    from medvie.cli.common import load_params
    from medvie.evaluation.pipeline import run_evaluate

    params, root = load_params()
    update: dict[str, Any] = {}
    if max_queries >= 0:
        update["max_queries"] = max_queries
    if models:
        update["models"] = [m.strip() for m in models.split(",") if m.strip()]
    cfg = params.evaluate.model_copy(update=update)
    where: dict[str, Any] = STAGES["evaluate"].resolve(root, params)
    run_evaluate(cfg, params.reward, log_mlflow=not no_mlflow, **where)


def ocr_read(
    text_file: Path = typer.Argument(
        ..., help='JSON with text lines: a list of {text, box} or {"lines": [...]}'
    ),
    keys: str = typer.Option("", help="comma-separated keys to answer (default: every key read)"),
) -> None:
    """Run the OCR baseline's rule-based reader on text lines and print its JSON."""
    from medvie.evaluation.ocr_baseline import RuleReader, SchemaNames, answer
    from medvie.io import read_json

    data = read_json(text_file)
    lines = data.get("lines", []) if isinstance(data, dict) else data
    if keys:
        out = answer(
            lines,
            [k.strip() for k in keys.split(",") if k.strip()],
            names=SchemaNames(SCHEMA),
        )
    else:
        out = RuleReader().read(lines)
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("evaluate")(evaluate)
    app.command("ocr-read")(ocr_read)
