"""`medvie` commands of the queries area."""

from __future__ import annotations

from pathlib import Path

import typer

from medvie import paths
from medvie.cli.common import PARAMS_HELP


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("queries")(queries)


def queries(
    records: Path = typer.Option(Path(paths.INGESTED), help="ingested data set"),
    selected: Path = typer.Option(Path(paths.SELECTED), help="the sample stage's output"),
    out: Path = typer.Option(Path(paths.QUERIES), help="output folder: train/val/test.jsonl"),
    text_dir: Path = typer.Option(Path(paths.TEXT), help="OCR output (text_hints=ocr)"),
    schema: Path | None = typer.Option(None, help="schema file (default: queries.schema)"),
    strategy: str | None = typer.Option(None, help="subset | all | mixed (default: queries.strategy)"),
    params: Path | None = typer.Option(None, help=PARAMS_HELP),
) -> None:
    """Build KV queries (prompt + image + truth restricted to the asked keys) for train, val and test."""
    import json

    from medvie.cli.common import load_params
    from medvie.queries.pipeline import run_queries
    from medvie.settings import parse_params

    p, root = load_params(params)
    cfg = p.queries
    if strategy is not None:
        cfg = parse_params(
            {"queries": {**cfg.model_dump(by_alias=True), "strategy": strategy}}, "options"
        ).queries
    where = paths.STAGES["queries"].resolve(
        root, p, records=records, selected=selected, text=text_dir, schema=schema, out=out
    )
    summary = run_queries(cfg, **where)
    typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
