"""`medvie` commands of the training area: `warmstart`, `train`, `train-check`."""

from __future__ import annotations

from typing import Any

import typer

from medvie.paths import STAGES

PRESET_HELP = "params preset merged over params.yaml (configs/presets/<name>.yaml or a path)"


def warmstart(preset: str = typer.Option(None, help=PRESET_HELP)) -> None:
    """SFT warm start (transcription + extraction) of models/base into models/warmstart."""
    from medvie.cli.common import load_params
    from medvie.training.warmstart import run_warmstart

    params, root = load_params(preset=preset)
    run_warmstart(params.warmstart, params.model, **STAGES["warmstart"].resolve(root, params))


def train(
    preset: str = typer.Option(None, help=PRESET_HELP),
    max_steps: int = typer.Option(0, help="override train.grpo.max_steps (0: keep)"),
) -> None:
    """GRPO (+ LoRA) from models/warmstart into models/grpo; resumes from build/train/checkpoints."""
    import sys

    from medvie.cli.common import load_params
    from medvie.training.launch import relaunch
    from medvie.training.train import train_grpo

    params, root = load_params(preset=preset)
    relaunch(params.train.launch, root, ["-m", "medvie", *sys.argv[1:]])
    if max_steps:
        train_cfg = params.train.model_copy(update={"grpo": {**params.train.grpo, "max_steps": max_steps}})
        params = params.model_copy(update={"train": train_cfg})
    where: dict[str, Any] = STAGES["train"].resolve(root, params)
    train_grpo(params, root, **where)


def train_check(preset: str = typer.Option(None, help=PRESET_HELP)) -> None:
    """Validate the train section and build its GRPOConfig without loading a model (no GPU needed)."""
    from medvie.cli.common import load_params
    from medvie.training.grpo import build_grpo_config, validate
    from medvie.training.launch import processes

    params, root = load_params(preset=preset)

    n = processes(params.train.launch, root)
    validate(params.train, processes=n, check_runtime=False)
    args = build_grpo_config(params.train, root / params.train.work_dir / "checkpoints", dry_run=True)
    # built in this one process: unless set, a launch's generation batch spans all n of its processes
    gen_batch = params.train.grpo.get("generation_batch_size") or args.generation_batch_size * n
    typer.echo(
        f"ok: processes={n} num_generations={args.num_generations} "
        f"loss_type={args.loss_type} beta={args.beta} "
        f"lr={args.learning_rate} ({args.lr_scheduler_type.value}) "
        f"epsilon={args.epsilon}/{args.epsilon_high} "
        f"generation_batch_size={gen_batch} use_vllm={args.use_vllm}"
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("warmstart")(warmstart)
    app.command("train")(train)
    app.command("train-check")(train_check)
