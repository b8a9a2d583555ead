"""Params presets (`configs/presets/*.yaml`): fragments of params.yaml merged over it."""

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
        return parse_params(raw, source=f"{params_file} + {path}")
    return parse_params(raw, source=str(params_file))
