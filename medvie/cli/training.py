"""`medvie` commands of the training area: `warmstart`, `train`, `train-check`."""

from __future__ import annotations

import typer

PRESET_HELP = "params preset merged over params.yaml (configs/presets/<name>.yaml or a path)"


def _params(preset: str | None):
    from medvie.env import project_root
    from medvie.training.presets import load_with_preset

    root = project_root()
    return load_with_preset(root / "params.yaml", preset, root), root


def warmstart(preset: str = typer.Option(None, help=PRESET_HELP)) -> None:
    """SFT warm start (transcription + extraction) of models/base into models/warmstart."""
    params, root = _params(preset)
    from medvie.training.warmstart import run_warmstart

    summary = run_warmstart(
        params.warmstart,
        params.model,
        base_dir=root / "models" / "base",
        queries_dir=root / "data" / "queries",
        records_file=root / "data" / "ingested" / "records.jsonl",
        out_dir=root / "models" / "warmstart",
        work_dir=root / "build" / "warmstart",
    )
    typer.echo(f"warmstart: {'trained' if summary['enabled'] else 'off (pointer to models/base)'}")


def train(
    preset: str = typer.Option(None, help=PRESET_HELP),
    max_steps: int = typer.Option(0, help="override train.grpo.max_steps (0: keep)"),
) -> None:
    """GRPO (+ LoRA) from models/warmstart into models/grpo; resumes from build/train/checkpoints."""
    params, root = _params(preset)
    if max_steps:
        train_cfg = params.train.model_copy(update={"grpo": {**params.train.grpo, "max_steps": max_steps}})
        params = params.model_copy(update={"train": train_cfg})
    from medvie.training.train import train_grpo

    summary = train_grpo(params, root)
    typer.echo(f"train: {summary['global_step']} steps, MLflow run {summary['run_id']}")


def train_check(preset: str = typer.Option(None, help=PRESET_HELP)) -> None:
    """Validate the train section and build its GRPOConfig without loading a model (no GPU needed)."""
    params, root = _params(preset)
    from medvie.training.grpo import build_grpo_config, validate

    validate(params.train, check_runtime=False)
    args = build_grpo_config(params.train, root / params.train.work_dir / "checkpoints", dry_run=True)
    typer.echo(
        f"ok: num_generations={args.num_generations} loss_type={args.loss_type} beta={args.beta} "
        f"lr={args.learning_rate} ({args.lr_scheduler_type.value}) epsilon={args.epsilon}/{args.epsilon_high} "
        f"generation_batch_size={args.generation_batch_size} use_vllm={args.use_vllm}"
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("warmstart")(warmstart)
    app.command("train")(train)
    app.command("train-check")(train_check)
