"""`medvie` commands of the synth area."""

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
