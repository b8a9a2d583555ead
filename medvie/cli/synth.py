"""`medvie synth`: render synthetic medical reports with exact ground truth."""

from __future__ import annotations

from pathlib import Path

import typer


def synth(
    out: Path = typer.Option(
        ..., "--out", help="folder to write labels.jsonl + images/ into (replaced whole)"
    ),
    n: int = typer.Option(100, "--n", min=1, help="number of reports"),
    seed: int = typer.Option(0, "--seed", help="same seed, same images and labels"),
    preset: str = typer.Option(
        "tiny", "--preset", help="tiny (small pages for the CPU model) | full (~1000x1400)"
    ),
    languages: str = typer.Option("en,zh", "--languages", help="comma-separated: en, zh"),
    families: str = typer.Option(
        "all", "--families", help="comma-separated report families (medvie.data.families), or all"
    ),
) -> None:
    """Render N synthetic reports (CBC, biochemistry, urinalysis, lipid, thyroid, imaging, pathology)."""
    from medvie.data.pipeline import run_synth
    from medvie.settings import parse_params

    langs = [x.strip() for x in languages.split(",") if x.strip()]
    synthetic = {"n": n, "seed": seed, "preset": preset, "languages": langs}
    if families != "all":
        synthetic["families"] = [x.strip() for x in families.split(",") if x.strip()]
    cfg = parse_params({"data": {"synthetic": synthetic}}, "options").data.synthetic
    run_synth(cfg, out=out)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("synth")(synth)
