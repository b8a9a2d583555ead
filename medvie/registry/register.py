"""Log an evaluated model and its prompt recipe as a pyfunc (models-from-code); register it as the new
`challenger`."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from medvie.errors import MedvieError
from medvie.registry.bundle import bundle_model, package_code, serving_requirements
from medvie.registry.promotion import (
    CHALLENGER,
    HASH_TAG,
    experiment_id,
    promote,
    registry_client,
    store_uri,
)
from medvie.registry.recipe import Recipe

PYFUNC_CODE = Path(__file__).with_name("pyfunc_model.py")
RECIPE_FILE = "recipe.json"


def git_commit(root: Path) -> str:
    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        return res.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def version_tags(
    metrics: Mapping[str, Any],
    *,
    test_set_hash: str,
    params: Mapping[str, Any],
    root: Path,
    data_hash: str = "",
) -> dict[str, str]:
    """Provenance carried by every version: data / test-set hash, params per section, git commit,
    reward config, metrics."""
    tags = {HASH_TAG: test_set_hash, "data_hash": data_hash or test_set_hash, "git_commit": git_commit(root)}
    for section, value in params.items():
        tags[f"params.{section}"] = json.dumps(value, ensure_ascii=False, sort_keys=True)[:4900]
    if "reward" in params:
        tags["reward_config"] = tags["params.reward"]
    for key, value in metrics.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            tags[f"metrics.{key}"] = repr(float(value))
    return tags


def _log_run(client, run_id: str | None) -> str:
    """`run_id` (the evaluation's run) when it is in this store, else a new `register` run in `medvie`."""
    from mlflow.exceptions import MlflowException

    if run_id:
        try:
            client.get_run(run_id)
            return run_id
        except MlflowException:
            pass
    return client.create_run(
        experiment_id(client, "medvie"), run_name="register", tags={"medvie.stage": "register"}
    ).info.run_id


def register_model(
    model_dir: str | Path,
    *,
    name: str,
    recipe: Recipe,
    tags: Mapping[str, str],
    run_id: str | None = None,
    tracking_uri: str | None = None,
    root: Path | None = None,
    copy_base: Literal["auto"] | bool = "auto",
    merge: bool = False,
    dtype: str = "auto",
    reason: str = "new version",
) -> dict:
    """Log `model_dir` with its `recipe` as a pyfunc in run `run_id` (a new run when None or not in this
    store), register it under `name`, tag it and point `challenger` at it. How the model is bundled
    (`copy_base`, `merge`, `dtype` of a merge; `root`: the project, whose folders `auto` copies): see
    `medvie.registry.bundle`. Returns {"name", "version", "run_id", "model_uri"}."""
    import mlflow

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise MedvieError(
            f"{model_dir}: model directory not found; run the train stage (or set register.model)"
        )
    uri = store_uri(tracking_uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = registry_client(uri)
    with tempfile.TemporaryDirectory(prefix="medvie-register-") as tmp:
        bundled = bundle_model(
            model_dir,
            Path(tmp) / "model",
            root=Path(root) if root else model_dir.parent,
            copy_base=copy_base,
            merge=merge,
            dtype=dtype,
        )
        recipe_file = recipe.write(Path(tmp) / RECIPE_FILE)
        code = package_code(Path(tmp) / "code")
        run_id = _log_run(client, run_id)
        with mlflow.start_run(run_id=run_id):
            info = mlflow.pyfunc.log_model(
                name="extractor",
                python_model=str(PYFUNC_CODE),
                artifacts={"model": str(Path(tmp) / "model"), "recipe": str(recipe_file)},
                registered_model_name=name,
                code_paths=[str(code)],
                pip_requirements=serving_requirements(),
            )
    version = str(info.registered_model_version)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, str(value)[:4900])
    client.set_model_version_tag(name, version, "model_dir", str(model_dir))
    for key, value in bundled.items():
        client.set_model_version_tag(name, version, f"model.{key}", str(value))
    promote(name, CHALLENGER, version, reason, client=client)
    return {"name": name, "version": version, "run_id": run_id, "model_uri": f"models:/{name}/{version}"}
