"""Params presets (`configs/presets/*.yaml`): fragments of params.yaml merged over it.

A preset is a whole run: besides `model` and `train` it sets `evaluate` (device, dtype, batch, tokens) to
match, and `load_with_preset` refuses a preset whose merged params would evaluate differently from how
they train (`inconsistencies`).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from medvie.config_base import load_yaml
from medvie.errors import ConfigError

PRESET_DIR = Path("configs") / "presets"


def preset_path(name_or_path: str, root: Path) -> Path:
    """A preset file from its name (`qwen2.5-vl-7b`) or path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and (path.exists() or (root / path).exists()):
        return path if path.exists() else root / path
    candidate = root / PRESET_DIR / f"{name_or_path}.yaml"
    if candidate.exists():
        return candidate
    known = sorted(p.stem for p in (root / PRESET_DIR).glob("*.yaml"))
    raise ConfigError(f"preset '{name_or_path}' not found; known presets: {', '.join(known) or 'none'}")


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep merge of mappings; `train.grpo` is replaced whole, since a recipe is a set of choices
    taken together."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "grpo":
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def inconsistencies(params) -> list[str]:
    """Where typed Params evaluate differently from how they train: answers cut shorter than training's
    completions, a model trained on the GPU evaluated on the CPU or in another dtype."""
    from medvie.training.grpo import trl_defaults
    from medvie.training.train import training_dtype

    grpo, ev = params.train.grpo, params.evaluate
    out = []
    completion = grpo.get("max_completion_length")
    if completion is None:
        completion = trl_defaults()["max_completion_length"]
    if ev.max_new_tokens < completion:
        out.append(
            f"evaluate.max_new_tokens ({ev.max_new_tokens}) is below train.grpo.max_completion_length "
            f"({completion}): evaluation would cut answers training let run"
        )
    on_gpu = not grpo.get("use_cpu", False) or grpo.get("bf16") or grpo.get("fp16")
    if on_gpu and not str(ev.device).startswith("cuda"):
        out.append(
            f"train.grpo trains on the GPU but evaluate.device is {ev.device}; set evaluate.device: cuda"
        )
    dtype = training_dtype(params)
    if dtype != "float32" and ev.dtype not in (dtype, "auto"):
        out.append(
            f"the model trains in {dtype} but evaluate.dtype is {ev.dtype}; set evaluate.dtype: {dtype}"
        )
    return out


def load_with_preset(params_file: Path, preset: str | None, root: Path):
    """Typed Params from params.yaml with `preset` merged over it (validated like params.yaml)."""
    from medvie.settings import parse_params

    raw: dict[str, Any] = {}
    if Path(params_file).exists():
        raw = load_yaml(Path(params_file).read_text(encoding="utf-8")) or {}
    if preset:
        path = preset_path(preset, root)
        over = load_yaml(path.read_text(encoding="utf-8")) or {}
        if not isinstance(over, dict):
            raise ConfigError(f"{path}: a preset must be a mapping of params sections")
        raw = merge(raw, over)
        params = parse_params(raw, source=f"{params_file} + {path}")
        issues = inconsistencies(params)
        if issues:
            raise ConfigError(
                f"{path}: {issues[0]} (a preset sets the evaluate section with the train section)"
            )
        return params
    return parse_params(raw, source=str(params_file))
