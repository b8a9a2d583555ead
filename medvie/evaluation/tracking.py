"""Evaluation results into MLflow: the training run when there is one, else a new run."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from medvie.env import mlflow_uris

EXPERIMENT = "medvie"
_BAD = re.compile(r"[^A-Za-z0-9_\-. /]")


def flat_metrics(metrics: Mapping[str, Any], prefix: str = "eval") -> dict[str, float]:
    """{"eval.grpo.f1": 0.7, "eval.grpo.by_strategy.subset.f1": …} from the metrics/eval.json body."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}.{_BAD.sub('_', str(key))}"
        if isinstance(value, Mapping):
            out.update(flat_metrics(value, name))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def client_for(root: Path):
    from mlflow import MlflowClient

    tracking, _ = mlflow_uris(root)
    return MlflowClient(tracking_uri=tracking, registry_uri=tracking)


def resolve_run(client, run_file: Path, root: Path, run_name: str = "evaluate") -> str:
    """The run named in `run_file` ({"run_id", …}) if it still exists, else a new run in
    experiment `medvie`."""
    from mlflow.exceptions import MlflowException

    if run_file.exists():
        try:
            run_id = json.loads(run_file.read_text(encoding="utf-8")).get("run_id")
            if run_id and client.get_run(run_id).info.lifecycle_stage == "active":
                return run_id
        except (MlflowException, json.JSONDecodeError, OSError):
            pass
    from medvie.registry.promotion import experiment_id

    run = client.create_run(
        experiment_id(client, EXPERIMENT), run_name=run_name, tags={"medvie.stage": "evaluate"}
    )
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def log_evaluation(
    root: Path,
    run_file: Path,
    metrics: Mapping[str, Any],
    artifacts: Mapping[str, Path],
    tags: Mapping[str, str] | None = None,
) -> str:
    """Log `eval.<model>.<metric>`, tags and artifacts (name -> file or dir) into the run; return its id."""
    from mlflow.entities import Metric, RunTag

    client = client_for(root)
    run_id = resolve_run(client, run_file, root)
    now = int(time.time() * 1000)
    items = [Metric(k, v, now, 0) for k, v in flat_metrics(metrics).items()]
    for start in range(0, len(items), 900):  # MLflow caps a batch at 1000 metrics
        client.log_batch(run_id, metrics=items[start : start + 900])
    if tags:
        client.log_batch(run_id, tags=[RunTag(k, str(v)[:5000]) for k, v in tags.items()])
    for dest, path in artifacts.items():
        if path.is_dir():
            client.log_artifacts(run_id, str(path), artifact_path=dest)
        elif path.exists():
            client.log_artifact(run_id, str(path), artifact_path=dest or None)
    return run_id
