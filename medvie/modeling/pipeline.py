"""The `model` stage as a library call: `params.model` → the base model directory."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from medvie.log import shown
from medvie.modeling.config import ModelConfig

log = logging.getLogger(__name__)


def run_model(cfg: ModelConfig, *, root: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Write `out`: a copy of the tiny checkpoint (`model.tiny_dir`), or a pointer to the configured
    model; `root` is what relative `model.tiny_dir` / `model.name_or_path` are relative to."""
    from medvie.modeling.base import prepare_base

    path = prepare_base(cfg, Path(root), out)
    log.info("model: %s -> %s", cfg.name_or_path, shown(path))
    return path
