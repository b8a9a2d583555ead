"""Stage `model`: params.model → models/base/ (tiny checkpoint copy, or a pointer to a local/hub model)."""

from pathlib import Path

from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.modeling.base import prepare_base

    out = prepare_base(params.model, root, "models/base")
    print(f"model: {params.model.name_or_path} -> {out.relative_to(root)}")


if __name__ == "__main__":
    run(main)
