"""The model stage: make `models/base/` from `params.model`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from medvie.errors import ConfigError
from medvie.io import atomic_dir, write_json
from medvie.modeling.config import TINY, ModelConfig
from medvie.paths import BASE_MODEL

CHECKPOINT_FILES = ("config.json", "model.safetensors")


def prepare_base(cfg: ModelConfig, root: Path, out_dir: str | os.PathLike[str] = BASE_MODEL) -> Path:
    """Write the base model dir `root / out_dir`: a copy of the tiny checkpoint, or `medvie_model.json`
    pointing at the model."""
    out = Path(root) / out_dir
    if cfg.name_or_path == TINY:
        return _tiny_base(cfg, Path(root), out)
    from medvie.modeling.loading import POINTER, load_processor, resolve_base

    local = Path(cfg.name_or_path).expanduser()
    if not local.is_absolute() and (Path(root) / local).is_dir():
        local = Path(root) / local
    base = str(local.resolve()) if local.is_dir() else cfg.name_or_path
    resolved = resolve_base(base)  # fails now, with a fix, rather than in the training stage
    if not (Path(resolved) / "config.json").exists():
        raise ConfigError(f"model.name_or_path '{cfg.name_or_path}': {resolved} holds no config.json")
    with atomic_dir(out) as tmp:
        write_json(tmp / POINTER, {"base": base, "adapter": None})
        if cfg.min_pixels or cfg.max_pixels:
            _save_processor(load_processor(resolved), cfg, tmp)
    return out


def _save_processor(processor, cfg: ModelConfig, where: Path) -> None:
    from medvie.modeling.processor import set_pixel_budget

    set_pixel_budget(processor, cfg.min_pixels, cfg.max_pixels)
    processor.save_pretrained(where)


def _tiny_base(cfg: ModelConfig, root: Path, out: Path) -> Path:
    if cfg.random_init:
        from medvie.modeling.tiny import build_tiny

        model, processor = build_tiny()
        with atomic_dir(out) as tmp:
            model.save_pretrained(tmp)
            processor.save_pretrained(tmp)
            write_json(tmp / "medvie_tiny.json", {"random_init": True})
        if cfg.min_pixels or cfg.max_pixels:
            _save_processor(processor, cfg, out)
        return out
    src = root / cfg.tiny_dir
    if not all((src / f).exists() for f in CHECKPOINT_FILES):
        raise ConfigError(
            f"model.tiny_dir '{cfg.tiny_dir}': no tiny checkpoint there; "
            "run `medvie pretrain-tiny` to make it "
            "(or set model.random_init: true for an untrained smoke-test model)"
        )
    with atomic_dir(out) as tmp:
        for item in src.iterdir():
            if item.is_file() and not item.name.startswith("."):
                shutil.copy2(item, tmp / item.name)
        if cfg.min_pixels or cfg.max_pixels:
            from medvie.modeling.loading import load_processor

            _save_processor(load_processor(str(tmp)), cfg, tmp)
    return out
