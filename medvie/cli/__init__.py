"""The `medvie` command. Each area registers its commands from `medvie/cli/<area>.py`."""

from __future__ import annotations

import typer

from medvie.env import apply_defaults
from medvie.log import entry_point

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
    from medvie.cli import (
        data,
        evaluation,
        modeling,
        queries,
        registry,
        rewards,
        sampling,
        synth,
        text,
        training,
    )

    for area in (synth, data, rewards, sampling, text, queries, modeling, training, evaluation, registry):
        area.register(app)


_register()


@app.command()
def where() -> None:
    """Print where the pipeline's outputs are and how to look at them."""
    from medvie.cli.where import print_locations

    print_locations()


def main() -> None:
    """The `medvie` command: messages on stderr, a MedvieError as one line and exit code 2."""
    apply_defaults()
    with entry_point():
        app()
