"""`medvie` commands of the text area: `ocr`, whose output feeds text hints and the OCR baseline."""

from __future__ import annotations

from pathlib import Path

import typer

from medvie import paths
from medvie.cli.common import PARAMS_HELP


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("ocr")(ocr)


def ocr(
    records: Path = typer.Option(Path(paths.INGESTED), help="ingested data set"),
    selected: Path = typer.Option(Path(paths.SELECTED), help="the sample stage's output"),
    text_dir: Path = typer.Option(Path(paths.TEXT), help="OCR output, one <sha256>.json per image"),
    image: Path | None = typer.Option(None, help="OCR this one image and print its lines instead"),
    params: Path | None = typer.Option(None, help=PARAMS_HELP),
) -> None:
    """OCR the records that need it (queries.text_hints=ocr or text.for_baseline), cached per image."""
    import json

    from medvie.cli.common import load_params

    p = load_params(params)[0]
    if image is not None:
        from medvie.text.ocr import run_ocr

        for line in run_ocr(image, p.text):
            typer.echo(json.dumps(line, ensure_ascii=False))
        return
    from medvie.text.pipeline import run_ocr_stage

    manifest = run_ocr_stage(p.text, p.queries, p.evaluate, records=records, selected=selected, out=text_dir)
    typer.echo(json.dumps(manifest, indent=2))
