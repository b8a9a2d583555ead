"""`medvie synth`: render synthetic medical reports with exact ground truth."""

from __future__ import annotations

import typer


def synth(
    out: str = typer.Option(
        ..., "--out", help="folder to write labels.jsonl + images/ into (replaced whole)"
    ),
    n: int = typer.Option(100, "--n", min=1, help="number of reports"),
    seed: int = typer.Option(0, "--seed", help="same seed, same images and labels"),
    preset: str = typer.Option(
        "tiny", "--preset", help="tiny (small pages for the CPU model) | full (~1000x1400)"
    ),
    languages: str = typer.Option("en,zh", "--languages", help="comma-separated: en, zh"),
) -> None:
    """Render N synthetic reports (CBC, biochemistry, urinalysis, lipid, thyroid, imaging, pathology)."""
    from medvie.data.synth import write_dataset

    langs = [x.strip() for x in languages.split(",") if x.strip()]
    path = write_dataset(out, n, seed, preset, langs, progress=True)
    typer.echo(f"wrote {n} reports to {path}/labels.jsonl")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("synth")(synth)
