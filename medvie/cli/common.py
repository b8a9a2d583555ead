"""What the commands share: which params they read, and where the project is."""

from __future__ import annotations

from pathlib import Path

from medvie.paths import PARAMS

PARAMS_HELP = "params file (default: the project's params.yaml when there is one, else the defaults)"


def load_params(path: Path | None = None, preset: str | None = None):
    """(Params, project root): `path` when given (it must exist), else the project's params.yaml when
    there is one, else the defaults; `preset` (configs/presets/<name>.yaml or a path) merged over them."""
    from medvie.env import project_root
    from medvie.settings import Params
    from medvie.settings import load_params as load

    root = project_root()
    file = path if path is not None else root / PARAMS
    if preset:
        from medvie.training.presets import load_with_preset

        return load_with_preset(file, preset, root), root
    if path is None and not file.exists():
        return Params(), root
    return load(file), root
