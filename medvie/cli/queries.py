"""`medvie` commands of the queries area (and `ocr`, whose output feeds text hints and the OCR baseline)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("ocr")(ocr)
    app.command("queries")(queries)


def _params(path: Path):
    from medvie.settings import Params, load_params

    return load_params(path) if path.exists() else Params()


def ocr(
    records: Path = typer.Option(Path("data/ingested"), help="ingested data set"),
    selected: Path = typer.Option(Path("data/selected.jsonl"), help="the sample stage's output"),
    text_dir: Path = typer.Option(Path("data/text"), help="OCR output, one <sha256>.json per image"),
    image: Path | None = typer.Option(None, help="OCR this one image and print its lines instead"),
    params: Path = typer.Option(Path("params.yaml"), help="params file (used when it exists)"),
) -> None:
    """OCR the records that need it (queries.text_hints=ocr or text.for_baseline), cached per image."""
    import json

    p = _params(params)
    if image is not None:
        from medvie.text.ocr import run_ocr

        for line in run_ocr(image, p.text):
            typer.echo(json.dumps(line, ensure_ascii=False))
        return
    from medvie.queries.pipeline import run_ocr_stage

    manifest = run_ocr_stage(
        records,
        selected,
        text_dir,
        p.text,
        p.queries,
        baseline="ocr_baseline" in p.evaluate.baselines,
        progress=True,
    )
    typer.echo(json.dumps(manifest, indent=2))


def queries(
    records: Path = typer.Option(Path("data/ingested"), help="ingested data set"),
    selected: Path = typer.Option(Path("data/selected.jsonl"), help="the sample stage's output"),
    out: Path = typer.Option(Path("data/queries"), help="output folder: train/val/test.jsonl"),
    text_dir: Path = typer.Option(Path("data/text"), help="OCR output (text_hints=ocr)"),
    schema: Path | None = typer.Option(None, help="schema file (default: queries.schema)"),
    strategy: str | None = typer.Option(None, help="subset | all | mixed (default: queries.strategy)"),
    params: Path = typer.Option(Path("params.yaml"), help="params file (used when it exists)"),
) -> None:
    """Build KV queries (prompt + image + truth restricted to the asked keys) for train, val and test."""
    import json

    from medvie.queries.pipeline import run_queries
    from medvie.settings import parse_params

    cfg = _params(params).queries
    if strategy is not None:
        cfg = parse_params(
            {"queries": {**cfg.model_dump(by_alias=True), "strategy": strategy}}, "options"
        ).queries
    summary = run_queries(records, selected, out, cfg, text_dir=text_dir, schema_path=schema)
    typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
