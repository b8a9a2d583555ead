"""`medvie` commands of the data area: ingest a user-layout folder, validate the result."""

from __future__ import annotations

from pathlib import Path

import typer

from medvie import paths
from medvie.cli.common import PARAMS_HELP


def ingest(
    source: Path | None = typer.Option(
        None, "--source", help="folder with labels.jsonl + images (default: params data.source)"
    ),
    out: Path = typer.Option(Path(paths.INGESTED), "--out", help="output folder, replaced whole on success"),
    params: Path | None = typer.Option(None, "--params", help=PARAMS_HELP),
) -> None:
    """Decode, normalise, de-duplicate and split a labelled image folder; bad records go to rejected.jsonl."""
    from medvie.cli.common import load_params
    from medvie.data.pipeline import run_ingest

    p, root = load_params(params)
    run_ingest(p.data, **paths.STAGES["ingest"].resolve(root, p, source=source, out=out))


def validate(
    records: Path = typer.Option(Path(paths.INGESTED), "--records", help="ingested data set folder"),
    reports: Path = typer.Option(
        Path(paths.REPORTS), "--reports", help="where validation.json/.md are written"
    ),
    params: Path | None = typer.Option(None, "--params", help=PARAMS_HELP),
) -> None:
    """Run the data-validation suite; exits non-zero when a critical expectation fails."""
    from medvie.cli.common import load_params
    from medvie.data.pipeline import run_validate

    p, root = load_params(params)
    where = paths.STAGES["validate"].resolve(
        root,
        p,
        records=records,
        report_json=reports / Path(paths.VALIDATION_JSON).name,
        report_md=reports / Path(paths.VALIDATION_MD).name,
    )
    run_validate(p.validate_, p.data, **where)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("ingest")(ingest)
    app.command("validate")(validate)
