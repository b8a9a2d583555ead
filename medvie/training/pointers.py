"""`medvie_model.json` pointers written by the training stages.

A pointer's `base` is resolved relative to its own directory (as `medvie.modeling.load` does).
Chains (a pointer whose base is itself a plain pointer) are flattened when written, so a loader
only ever follows one hop.
"""

from __future__ import annotations

import os
from pathlib import Path

from medvie.io import read_json, write_json

POINTER = "medvie_model.json"


def resolve_base(model_dir: Path) -> str:
    """What a pointer to `model_dir` should name as base: a plain pointer is followed to its base."""
    model_dir = Path(model_dir).resolve()
    seen = set()
    while (model_dir / POINTER).exists() and model_dir not in seen:
        seen.add(model_dir)
        ptr = read_json(model_dir / POINTER)
        if ptr.get("adapter"):
            break  # a base with an adapter stays a directory of its own
        base = ptr["base"]
        candidate = model_dir / base
        if Path(base).is_absolute() or candidate.exists():
            model_dir = (Path(base) if Path(base).is_absolute() else candidate).resolve()
        else:
            return base  # a hub id
    return str(model_dir)


def write_pointer(
    out_dir: Path, base: str, adapter: str | None = None, *, final_dir: Path | None = None
) -> None:
    """Write `out_dir/medvie_model.json`; a local base is stored relative to `final_dir` (default out_dir)."""
    base = relative_base(final_dir or out_dir, base)
    write_json(Path(out_dir) / POINTER, {"base": base, "adapter": adapter})


def relative_base(final_dir: Path, base: str) -> str:
    """`base` (absolute local dir or hub id) as written into a pointer that will live in `final_dir`."""
    if Path(base).is_absolute():
        return os.path.relpath(base, Path(final_dir).resolve())
    return base
