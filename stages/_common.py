"""What every stage shares: environment defaults, params loading, one-line failures."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from medvie.env import apply_defaults, project_root
from medvie.errors import MedvieError
from medvie.settings import Params, load_params


def run(stage: Callable[[Params, Path], None]) -> None:
    """Run `stage(params, root)`; a MedvieError becomes one line on stderr and exit code 2."""
    root = project_root()
    try:
        params = load_params(root / "params.yaml")
        apply_defaults(root, threads=params.env.threads)
        stage(params, root)
    except MedvieError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("interrupted: outputs were left as they were before this run", file=sys.stderr)
        raise SystemExit(130) from None
