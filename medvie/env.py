"""Process environment defaults, in one place.

Called by the CLI, every stage, every flow and the test suite before heavy imports, so that
nothing reaches a model hub, telemetry endpoint or oversubscribes the CPU. Values already set
by the user win (`setdefault`).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_MARKERS = ("params.yaml", "dvc.yaml")


def project_root(start: str | os.PathLike[str] | None = None) -> Path:
    """The repo root: $MEDVIE_ROOT, else the nearest parent holding params.yaml, else cwd."""
    if os.environ.get("MEDVIE_ROOT"):
        return Path(os.environ["MEDVIE_ROOT"]).resolve()
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if any((d / m).exists() for m in PROJECT_MARKERS):
            return d
    return here


def mlflow_uris(root: Path | None = None) -> tuple[str, str]:
    """(tracking/registry URI, artifact root URI). MLflow 3 refuses a plain file store.

    $MEDVIE_MLFLOW_STORE_ROOT wins over `root`: a DVC experiment runs in a temporary copy of the
    repo, and its runs and registered versions belong in the project's store, not the copy's.
    """
    store = os.environ.get("MEDVIE_MLFLOW_STORE_ROOT")
    root = Path(store).resolve() if store else (root or project_root()).resolve()
    return f"sqlite:///{root / 'mlflow.db'}", (root / "mlruns").as_uri()


def apply_defaults(root: Path | None = None, threads: int | None = None) -> dict[str, str]:
    """Set environment defaults; return the ones this call set."""
    root = root or project_root()
    tracking, _ = mlflow_uris(root)
    n_threads = str(threads or os.environ.get("MEDVIE_THREADS") or 1)
    defaults = {
        # offline: weights and data never come from a hub at run time
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        # a shared 2-core machine: default threading made steps up to 40x slower under load
        "OMP_NUM_THREADS": n_threads,
        "MKL_NUM_THREADS": n_threads,
        "TOKENIZERS_PARALLELISM": "false",
        # telemetry off
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "GX_ANALYTICS_ENABLED": "False",
        "MLFLOW_ENABLE_TELEMETRY": "false",
        "DISABLE_MLFLOW_INTEGRATION": "TRUE",  # transformers' own MLflow callback; we log explicitly
        "WANDB_DISABLED": "true",
        "MLFLOW_TRACKING_URI": tracking,
        "MLFLOW_REGISTRY_URI": tracking,
    }
    set_now = {}
    for key, value in defaults.items():
        if key not in os.environ:
            os.environ[key] = value
            set_now[key] = value
    return set_now
