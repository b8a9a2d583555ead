"""Stage `model`: params.model → models/base/ (tiny checkpoint copy, or a pointer to a local/hub model)."""

from pathlib import Path

from medvie.paths import STAGES
from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.modeling.pipeline import run_model

    run_model(params.model, root=root, **STAGES["model"].resolve(root, params))


if __name__ == "__main__":
    run(main)
