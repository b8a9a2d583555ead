"""train.grpo → GRPOConfig, with the checks that must fail before a model is loaded.

GRPOConfig validates itself when `build_grpo_config` builds it (before any model loads): at least
2 generations, a generation batch that is a multiple of the global batch and of num_generations,
not both generation_batch_size and steps_per_generation, bf16 only where supported. `validate`
adds what TRL checks late (loss_type, vllm_mode: when the trainer starts) or never, the batch
divisibility again with a message naming the param to change, and the hardware checks. A key left
out of train.grpo takes TRL's own default, read from the installed GRPOConfig. `check_launch` compares
train.grpo with the launch (the variables `accelerate launch` exports from its config file) where
transformers would refuse the pair only once the model is loaded and the trainer built.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from functools import cache
from pathlib import Path
from typing import Any

from medvie.errors import ConfigError
from medvie.training.config import TrainConfig

# TRL's accepted values, named only in its field help; a test checks them against the installed TRL.
LOSS_TYPES = ("grpo", "dapo", "dr_grpo", "bnpo", "cispo", "sapo", "luspo", "vespo")
SCALE_REWARDS = ("group", "batch", "none", True, False)


def world_size() -> int:
    """Processes of this launch (accelerate/torchrun set WORLD_SIZE)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


@cache
def trl_defaults() -> dict[str, Any]:
    """The installed GRPOConfig's default of every field that has one."""
    from trl import GRPOConfig

    out: dict[str, Any] = {}
    for f in dataclasses.fields(GRPOConfig):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def _get(grpo: dict[str, Any], key: str) -> Any:
    """train.grpo's value of `key`; TRL's default when it is left out or null."""
    value = grpo.get(key)
    return trl_defaults()[key] if value is None else value


def validate(
    cfg: TrainConfig,
    *,
    n_prompts: int | None = None,
    processes: int | None = None,
    check_runtime: bool = True,
) -> None:
    """Raise ConfigError naming the param to change. `n_prompts`: training prompts available."""
    g = cfg.grpo
    processes = processes or world_size()
    num_gen = _get(g, "num_generations")
    if g.get("generation_batch_size") is not None:
        gen_batch = g["generation_batch_size"]
        source = f"generation_batch_size ({gen_batch})"
    else:
        per_device = _get(g, "per_device_train_batch_size")
        steps_per_gen = g.get("steps_per_generation")
        if steps_per_gen is None:  # TRL's rule: one generation per optimizer step
            steps_per_gen = _get(g, "gradient_accumulation_steps")
        gen_batch = per_device * processes * steps_per_gen
        what = (
            "steps_per_generation"
            if g.get("steps_per_generation") is not None
            else "gradient_accumulation_steps"
        )
        source = (
            f"per_device_train_batch_size × processes × {what} = "
            f"{per_device} × {processes} × {steps_per_gen} = {gen_batch}"
        )
    # fewer than 2 generations: GRPOConfig refuses them itself
    if num_gen >= 2 and gen_batch % num_gen:
        raise ConfigError(
            f"train.grpo: the generation batch, {source}, is not divisible by num_generations ({num_gen}); "
            f"make train.grpo.per_device_train_batch_size a multiple of {num_gen} "
            "or change train.grpo.num_generations"
        )
    loss = _get(g, "loss_type")
    if loss not in LOSS_TYPES:
        raise ConfigError(f"train.grpo.loss_type '{loss}' is not one of {', '.join(LOSS_TYPES)}")
    if _get(g, "scale_rewards") not in SCALE_REWARDS:
        raise ConfigError(f"train.grpo.scale_rewards {g['scale_rewards']!r} must be group, batch or none")
    eps = _get(g, "epsilon")
    eps_high = g.get("epsilon_high")
    if eps_high is not None and eps_high < eps:
        raise ConfigError(
            f"train.grpo.epsilon_high ({eps_high}) must be >= train.grpo.epsilon ({eps}) (clip-higher)"
        )
    if _get(g, "beta") < 0:
        raise ConfigError("train.grpo.beta must be >= 0")
    if _get(g, "max_completion_length") < 1:
        raise ConfigError("train.grpo.max_completion_length must be >= 1")
    if _get(g, "max_steps") <= 0 and _get(g, "num_train_epochs") <= 0:
        raise ConfigError("train.grpo: set max_steps > 0 or num_train_epochs > 0")
    if _get(g, "save_steps") <= 0:
        raise ConfigError("train.grpo.save_steps must be > 0: checkpoints are how an interrupted run resumes")
    if n_prompts is not None and num_gen >= 2:
        per_gen = gen_batch // num_gen
        if n_prompts < per_gen:
            raise ConfigError(
                f"train.grpo: one generation batch needs {per_gen} distinct prompts but the {cfg.split} "
                f"split has {n_prompts}; lower train.grpo.per_device_train_batch_size or add data"
            )
    if check_runtime:
        _check_runtime(g)


def _check_runtime(g: dict[str, Any]) -> None:
    """Settings that need hardware or packages this machine may not have."""
    import torch

    gpu = torch.cuda.is_available()
    if (g.get("bf16") or g.get("fp16")) and not gpu and not g.get("use_cpu"):
        raise ConfigError(
            "train.grpo: bf16/fp16 need a GPU; set train.grpo.use_cpu: true and bf16: false, or use a GPU"
        )
    if g.get("fp16") and g.get("use_cpu"):
        raise ConfigError("train.grpo.fp16 does not run on CPU; set it false")
    if g.get("use_vllm") and importlib.util.find_spec("vllm") is None:
        raise ConfigError(
            "train.grpo.use_vllm needs the vllm package (GPU machines); install it or set use_vllm: false"
        )
    if g.get("use_vllm") and _get(g, "vllm_mode") not in ("colocate", "server"):
        raise ConfigError(f"train.grpo.vllm_mode '{g['vllm_mode']}' must be colocate or server")


def _env_flag(name: str) -> bool:
    """An accelerate launch variable read as accelerate reads it (`str_to_bool`)."""
    return os.environ.get(name, "false").strip().lower() in ("y", "yes", "t", "true", "on", "1")


def _fsdp_activation_checkpointing(grpo: dict[str, Any]) -> bool:
    """FSDP's own activation checkpointing: from the accelerate config (`fsdp_activation_checkpointing`,
    exported as FSDP_ACTIVATION_CHECKPOINTING) or from train.grpo's fsdp_config."""
    if _env_flag("ACCELERATE_USE_FSDP") and _env_flag("FSDP_ACTIVATION_CHECKPOINTING"):
        return True
    fsdp_config = grpo.get("fsdp_config")
    if grpo.get("fsdp") and isinstance(fsdp_config, dict):
        value = fsdp_config.get("activation_checkpointing", fsdp_config.get("fsdp_activation_checkpointing"))
        return str(value).strip().lower() in ("y", "yes", "t", "true", "on", "1")
    return False


def check_launch(grpo: dict[str, Any]) -> None:
    """Raise ConfigError where train.grpo and the accelerate launch cannot run together."""
    if _env_flag("ACCELERATE_USE_DEEPSPEED") and importlib.util.find_spec("deepspeed") is None:
        raise ConfigError(
            "the accelerate config uses DeepSpeed (distributed_type: DEEPSPEED) but the deepspeed package "
            "is not installed; pip install deepspeed, or launch with another accelerate config"
        )
    checkpointing = grpo.get("activation_checkpointing")
    if checkpointing is None:  # its deprecated alias
        checkpointing = grpo.get("gradient_checkpointing")
    if checkpointing and _fsdp_activation_checkpointing(grpo):
        raise ConfigError(
            "train.grpo.activation_checkpointing and the accelerate config's fsdp_activation_checkpointing "
            "are both true, which transformers refuses; set one of them false"
        )


def build_grpo_config(
    cfg: TrainConfig,
    output_dir: str | Path,
    *,
    reward_weights: list[float] | None = None,
    dry_run: bool = False,
    **overrides: Any,
):
    """The GRPOConfig of `cfg`. `dry_run`: check a GPU recipe on a machine without one (forces use_cpu)."""
    from trl import GRPOConfig

    kwargs = dict(cfg.grpo)
    kwargs.update(overrides)
    check_launch(kwargs)
    if dry_run:
        import torch

        if not torch.cuda.is_available():
            kwargs["use_cpu"] = True
    kwargs.update(output_dir=str(output_dir), report_to="none", seed=cfg.seed, save_strategy="steps")
    if reward_weights is not None:
        kwargs["reward_weights"] = list(reward_weights)
    # TRL logs inside the trainer; keep it from writing completion tables to stdout
    kwargs.setdefault("log_completions", False)
    try:
        return GRPOConfig(**kwargs)
    except ZeroDivisionError:
        raise ConfigError("train.grpo: num_generations and the batch sizes must be >= 1") from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"train.grpo: {str(exc).splitlines()[0]}") from None


def lora_config(cfg: TrainConfig):
    """peft.LoraConfig for train.lora, or None for full fine-tuning."""
    if not cfg.lora.enabled:
        return None
    from peft import LoraConfig

    names = cfg.lora.target_modules
    if cfg.lora.language_only:
        # PEFT full-matches a string as a regex: only the language model's layers
        alt = "|".join(sorted(set(names)))
        target: Any = rf".*language_model.*\.({alt})"
    else:
        target = list(names)
    return LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=target,
        task_type="CAUSAL_LM",
    )
