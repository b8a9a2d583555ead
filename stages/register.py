"""Stage `register`: the evaluated model and its prompt recipe -> MLflow registry (`challenger`; `champion`
when gated better: the only gate the pipeline runs)."""

from __future__ import annotations

import json
from pathlib import Path

from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.registry.pipeline import run_register

    out = run_register(params, root)
    print(json.dumps(out["decision"]))


if __name__ == "__main__":
    run(main)
