"""What every stage shares: params loading, environment defaults, messages and one-line failures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from medvie.env import apply_defaults, project_root
from medvie.log import entry_point
from medvie.paths import PARAMS
from medvie.settings import Params, load_params


def run(stage: Callable[[Params, Path], object]) -> None:
    """Run `stage(params, root)` as an entry point (`medvie.log.entry_point`): messages on stderr,
    a MedvieError as one line and exit code 2, Ctrl-C exit code 130."""
    with entry_point():
        root = project_root()
        params = load_params(root / PARAMS)
        apply_defaults(root, threads=params.env.threads)
        stage(params, root)
