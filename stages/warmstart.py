"""DVC stage `warmstart`: SFT of models/base → models/warmstart (or a pointer to the base when off)."""

from pathlib import Path

from medvie.paths import STAGES
from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.training.warmstart import run_warmstart

    run_warmstart(params.warmstart, params.model, **STAGES["warmstart"].resolve(root, params))


if __name__ == "__main__":
    run(main)
