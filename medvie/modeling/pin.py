"""A pinned reference to a base model, so that an adapter registered without a copy of its base loads onto
the very base it was trained on, or fails saying which one it needs.

- a hub id resolved from the local Hugging Face cache is pinned by its snapshot's commit (`revision`);
- a local folder is pinned by a `fingerprint` of its files: names, sizes, and the bytes of the small files
  and of both ends of the large ones. A 7B's 16 GB are not read at every load, while what changes
  between two checkpoints (config, weight headers at the start of each safetensors file, tokenizer) is.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from medvie.errors import MedvieError

SMALL_FILE = 8 << 20  # read whole below this size
END_BYTES = 1 << 20  # else the first and last MiB


def fingerprint(folder: str | Path) -> str:
    """sha256 over the files of a checkpoint folder (see the module docstring), hidden files left out."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        size = path.stat().st_size
        digest.update(f"{rel.as_posix()}\0{size}\0".encode())
        with path.open("rb") as fh:
            if size <= SMALL_FILE:
                digest.update(fh.read())
            else:
                digest.update(fh.read(END_BYTES))
                fh.seek(size - END_BYTES)
                digest.update(fh.read(END_BYTES))
    return digest.hexdigest()[:32]


def hub_revision(ref: str, resolved: str) -> str | None:
    """The snapshot commit of a hub id resolved from the cache (`…/snapshots/<commit>`), else None."""
    path = Path(resolved)
    if "/" in ref and not Path(ref).expanduser().exists() and path.parent.name == "snapshots":
        return path.name
    return None


def pin(ref: str, resolved: str) -> dict[str, Any]:
    """The pointer entries that pin base `ref` (a hub id or a folder), found at `resolved`."""
    revision = hub_revision(ref, resolved)
    if revision:
        return {"base": ref, "revision": revision}
    return {"base": str(Path(resolved).resolve()), "fingerprint": fingerprint(resolved)}


def resolve_pinned(ptr: dict[str, Any], where: Path) -> str:
    """The local folder of a pinned base; a missing or changed one is an error naming what is needed."""
    base = ptr["base"]
    if ptr.get("revision"):
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            return snapshot_download(base, revision=ptr["revision"], local_files_only=True)
        except (LocalEntryNotFoundError, FileNotFoundError, OSError, ValueError):
            raise MedvieError(
                f"{where}: this model's base is {base} at revision {ptr['revision']}, not in the local "
                f"Hugging Face cache; `hf download {base} --revision {ptr['revision']}` on a connected "
                "machine (same HF_HOME), or register with register.copy_base: true"
            ) from None
    if not Path(base).is_dir():
        raise MedvieError(
            f"{where}: this model's base folder {base} is gone; restore it there, or register the model "
            "again with register.copy_base: true (or register.merge: true)"
        )
    found = fingerprint(base)
    if found != ptr.get("fingerprint"):
        raise MedvieError(
            f"{where}: the base folder {base} changed since this model was registered (fingerprint "
            f"{found[:12]}, registered {str(ptr.get('fingerprint'))[:12]}); restore it, or register "
            "again with register.copy_base: true"
        )
    return base
