"""DVC stage `train`: GRPO on data/queries from models/warmstart → models/grpo + plots/train."""

from pathlib import Path

from stages._common import run


def stage(params, root: Path) -> None:
    from medvie.training.train import train_grpo

    summary = train_grpo(params, root)
    print(f"train: {summary['global_step']} steps, MLflow run {summary['run_id']}")


if __name__ == "__main__":
    run(stage)
