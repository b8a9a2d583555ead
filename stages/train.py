"""DVC stage `train`: GRPO on data/queries from models/warmstart → models/grpo + plots/train."""

from pathlib import Path

from medvie.paths import STAGES
from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.training.launch import relaunch
    from medvie.training.train import train_grpo

    relaunch(params.train.launch, root, ["-m", "stages.train"])

    train_grpo(params, root, **STAGES["train"].resolve(root, params))


if __name__ == "__main__":
    run(main)
