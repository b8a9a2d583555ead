"""The register stage: metrics/eval.json + models/<model> + its prompt recipe -> a registry version, the
gate (recorded in `medvie-registry`), reports/registry.json.

The gate runs here and only here: the flows that run this stage report what it decided
(`medvie.registry.promotion.latest_event`), they do not gate again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from medvie.errors import MedvieError
from medvie.io import read_json, write_json
from medvie.registry.config import RegisterConfig
from medvie.registry.promotion import aliases, registry_client, run_action
from medvie.registry.recipe import Recipe
from medvie.registry.register import register_model, version_tags
from medvie.settings import PARAM_SECTIONS, dump_sections

REPORT = "reports/registry.json"
GATE_REASON = "register stage"


def data_hash(root: Path) -> str:
    """sha256 over the query files (train/val/test), the data a version was trained and tested on."""
    h = hashlib.sha256()
    for path in sorted((root / "data" / "queries").glob("*.jsonl")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def evaluated_metrics(root: Path, cfg: RegisterConfig) -> dict[str, Any]:
    """The test metrics of `register.model` in metrics/eval.json, checked to hold the gate metric."""
    body = read_json(root / "metrics" / "eval.json")
    if cfg.model not in body:
        raise MedvieError(
            f"metrics/eval.json has no '{cfg.model}' entry; add it to evaluate.models or fix "
            f"register.model (evaluated: {sorted(body)})"
        )
    metrics = body[cfg.model]
    if cfg.gate_metric not in metrics:
        raise MedvieError(
            f"register.gate_metric '{cfg.gate_metric}' is not a metric of metrics/eval.json "
            f"(have: {sorted(k for k, v in metrics.items() if not isinstance(v, dict))})"
        )
    return metrics


def run_register(params: Any, root: Path, *, tracking_uri: str | None = None) -> dict:
    cfg = params.register_
    metrics = evaluated_metrics(root, cfg)
    meta = read_json(root / "reports" / "eval_meta.json")
    # what the model is, and (`evaluate`) how it was measured
    sections = dump_sections(params, (*PARAM_SECTIONS, "evaluate"))
    tags = version_tags(
        metrics, test_set_hash=meta["test_set_hash"], params=sections, root=root, data_hash=data_hash(root)
    )
    tags["eval_run_id"] = meta.get("mlflow_run_id", "")
    reg = register_model(
        root / "models" / cfg.model,
        name=cfg.name,
        recipe=Recipe.from_params(params, root),
        tags=tags,
        run_id=meta.get("mlflow_run_id"),
        tracking_uri=tracking_uri,
        root=root,
        copy_base=cfg.copy_base,
        merge=cfg.merge,
        dtype=params.model.dtype,
        reason=f"registered from models/{cfg.model}",
    )
    return gate_and_report(cfg, root, reg, test_set_hash=meta["test_set_hash"], tracking_uri=tracking_uri)


def gate_and_report(
    cfg: RegisterConfig, root: Path, registered: dict, *, test_set_hash: str, tracking_uri: str | None = None
) -> dict:
    """Gate the new challenger (`register.gate_metric`, `min_gain`, `force`); write reports/registry.json."""
    client = registry_client(tracking_uri)
    event = run_action(
        "gate",
        cfg.name,
        metric=cfg.gate_metric,
        min_gain=cfg.min_gain,
        force=cfg.force,
        reason=GATE_REASON,
        client=client,
    )
    out = {
        "name": cfg.name,
        "version": registered["version"],
        "model_uri": registered["model_uri"],
        "run_id": registered["run_id"],
        "aliases": aliases(cfg.name, client=client),
        "test_set_hash": test_set_hash,
        "decision": event["result"],
        "promotion": {k: v for k, v in event.items() if k != "result"},
    }
    write_json(root / REPORT, out)
    return out
