"""DVC stage `synth`: render the embedded default data set into data/synthetic (the user layout)."""

from pathlib import Path

from medvie.paths import STAGES
from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.data.pipeline import run_synth

    run_synth(params.data.synthetic, **STAGES["synth"].resolve(root, params))


if __name__ == "__main__":
    run(main)
