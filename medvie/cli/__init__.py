"""The `medvie` command. Each area registers its commands from `medvie/cli/<area>.py`."""

from __future__ import annotations

import sys

import typer

from medvie.env import apply_defaults
from medvie.errors import MedvieError

app = typer.Typer(
    name="medvie",
    help="Medical report field extraction with a vision-language model trained by GRPO.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Medical report field extraction with a vision-language model trained by GRPO."""


def _register() -> None:
    from medvie.cli import data, evaluation, modeling, queries, registry, rewards, sampling, synth, training

    for area in (synth, data, rewards, sampling, queries, modeling, training, evaluation, registry):
        area.register(app)


_register()


@app.command()
def where() -> None:
    """Print where the pipeline's outputs are and how to look at them."""
    from medvie.cli.where import print_locations

    print_locations()


def main() -> None:
    apply_defaults()
    try:
        app()
    except MedvieError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
