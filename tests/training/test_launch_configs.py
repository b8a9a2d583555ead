"""Every preset under every accelerate config: its GRPOConfig builds with the variables `accelerate launch`
exports for that config (computed by accelerate's own launch code), and transformers would not refuse the
pair once the trainer is built; or medvie refuses it up front in one line."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from medvie.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
PRESETS = sorted(p.stem for p in (REPO / "configs" / "presets").glob("*.yaml"))
CONFIGS = sorted(p.stem for p in (REPO / "configs" / "accelerate").glob("*.yaml"))


def launch_env(config: str) -> tuple[int, dict[str, str]]:
    """(processes, the variables `accelerate launch --config_file configs/accelerate/<config>.yaml`
    sets for its processes, besides the ones torchrun adds per process)."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import (
        prepare_deepspeed_cmd_env,
        prepare_multi_gpu_env,
        prepare_simple_launcher_cmd_env,
    )

    path = REPO / "configs" / "accelerate" / f"{config}.yaml"
    args = launch_command_parser().parse_args(["--config_file", str(path), "-m", "stages.train"])
    args, defaults, _ = _validate_launch_command(args)
    if args.use_deepspeed:  # as accelerate's launch_command prepares the DeepSpeed launcher
        args.deepspeed_fields_from_accelerate_config = ",".join(defaults.deepspeed_config)
        _, env = prepare_deepspeed_cmd_env(args)
    elif args.use_fsdp or args.multi_gpu:
        env = prepare_multi_gpu_env(args)
    else:
        _, env = prepare_simple_launcher_cmd_env(args)
    return args.num_processes, {k: v for k, v in env.items() if os.environ.get(k) != v}


def _build(preset: str, config: str, monkeypatch, tmp_path, **env_over):
    from medvie.training.grpo import build_grpo_config, validate
    from medvie.training.presets import load_with_preset

    processes, env = launch_env(config)
    for key, value in {**env, **env_over}.items():
        monkeypatch.setenv(key, value)
    params = load_with_preset(REPO / "params.yaml", preset, REPO)
    validate(params.train, processes=processes, check_runtime=False)
    # dry_run: no GPU here, so use_cpu; bf16 stays as the preset sets it
    return build_grpo_config(params.train, tmp_path / "ckpt", dry_run=True), env


def test_the_shipped_configs_are_all_covered():
    assert {"fsdp", "zero3", "single_gpu"} <= set(CONFIGS) and len(PRESETS) >= 2


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_builds_under_every_accelerate_config(preset, config, monkeypatch, tmp_path):
    try:
        args, env = _build(preset, config, monkeypatch, tmp_path)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message
        # the one launch medvie may refuse here: DeepSpeed where its package is not installed
        assert importlib.util.find_spec("deepspeed") is None and "deepspeed" in message, message
        return
    assert args.bf16 and args.num_generations >= 2
    if env.get("ACCELERATE_USE_FSDP") == "true":
        from accelerate.utils import FullyShardedDataParallelPlugin

        plugin = FullyShardedDataParallelPlugin()  # what Accelerator builds from these variables
        # the pair transformers' Trainer refuses once the model is loaded
        assert not (plugin.activation_checkpointing and args.activation_checkpointing)
        assert args.activation_checkpointing  # the presets' memory saving still applies


@pytest.mark.parametrize("preset", PRESETS)
def test_fsdp_and_trainer_activation_checkpointing_together_are_refused_up_front(
    preset, monkeypatch, tmp_path
):
    with pytest.raises(ConfigError) as exc:
        _build(preset, "fsdp", monkeypatch, tmp_path, FSDP_ACTIVATION_CHECKPOINTING="true")
    message = str(exc.value)
    assert "\n" not in message
    assert "train.grpo.activation_checkpointing" in message and "fsdp_activation_checkpointing" in message


def test_deepspeed_without_its_package_is_one_line(monkeypatch, tmp_path):
    import medvie.training.grpo as grpo

    real = importlib.util.find_spec
    monkeypatch.setattr(
        grpo.importlib.util, "find_spec", lambda name, *a: None if name == "deepspeed" else real(name, *a)
    )
    with pytest.raises(ConfigError, match="pip install deepspeed"):
        _build(PRESETS[0], "zero3", monkeypatch, tmp_path)
