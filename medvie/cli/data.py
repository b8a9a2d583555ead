"""`medvie` commands of the data area: ingest a user-layout folder, validate the result."""

from __future__ import annotations

from pathlib import Path

import typer


def _params(path: Path | None):
    """params.yaml given, else the project's one when present, else defaults."""
    from medvie.env import project_root
    from medvie.settings import Params, load_params

    if path is not None:
        return load_params(path)
    default = project_root() / "params.yaml"
    return load_params(default) if default.exists() else Params()


def ingest(
    source: Path | None = typer.Option(
        None, "--source", help="folder with labels.jsonl + images (default: params data.source)"
    ),
    out: Path = typer.Option(Path("data/ingested"), "--out", help="output folder, replaced whole on success"),
    params: Path | None = typer.Option(None, "--params", help="params.yaml to read the data section from"),
) -> None:
    """Decode, normalise, de-duplicate and split a labelled image folder; bad records go to rejected.jsonl."""
    from medvie.data.ingest import ingest as run_ingest
    from medvie.env import project_root

    cfg = _params(params).data
    run_ingest(source or project_root() / cfg.source, out, cfg, log=typer.echo)


def validate(
    records: Path = typer.Option(Path("data/ingested"), "--records", help="ingested data set folder"),
    reports: Path = typer.Option(Path("reports"), "--reports", help="where validation.json/.md are written"),
    params: Path | None = typer.Option(None, "--params", help="params.yaml to read validate/data from"),
) -> None:
    """Run the data-validation suite; exits non-zero when a critical expectation fails."""
    from medvie.data.validation import run_validation
    from medvie.env import project_root

    p = _params(params)
    report = run_validation(
        records,
        reports,
        p.validate_,
        p.data.split,
        near_duplicate_distance=p.data.near_duplicate_distance,
        near_duplicate_confirm_distance=p.data.near_duplicate_confirm_distance,
        schema_path=project_root() / p.validate_.schema_path,
    )
    typer.echo(
        f"validation passed: {report['n_passed']}/{report['n_expectations']} expectations "
        f"({report['n_failed_warning']} warnings); see {reports / 'validation.md'}"
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("ingest")(ingest)
    app.command("validate")(validate)
