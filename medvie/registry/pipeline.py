"""The register stage: metrics/eval.json + models/<model> -> a registry version, gated promotion,
reports/registry.json."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from mlflow.exceptions import MlflowException

from medvie.errors import MedvieError
from medvie.io import read_json, write_json
from medvie.registry.promotion import CHALLENGER, CHAMPION, gate_and_promote, registry_client
from medvie.registry.register import register_model, version_tags

PARAM_SECTIONS = ("reward", "queries", "sampling", "model", "warmstart", "train", "evaluate")


def data_hash(root: Path) -> str:
    """sha256 over the query files (train/val/test), the data a version was trained and tested on."""
    h = hashlib.sha256()
    for path in sorted((root / "data" / "queries").glob("*.jsonl")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def run_register(params: Any, root: Path, *, tracking_uri: str | None = None) -> dict:
    cfg = params.register_
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
    meta = read_json(root / "reports" / "eval_meta.json")
    sections = {
        s: getattr(params, s).model_dump(mode="json", by_alias=True)
        for s in PARAM_SECTIONS
        if getattr(params, s, None) is not None
    }
    tags = version_tags(
        metrics, test_set_hash=meta["test_set_hash"], params=sections, root=root, data_hash=data_hash(root)
    )
    tags["eval_run_id"] = meta.get("mlflow_run_id", "")
    settings = {
        "thinking": params.queries.thinking,
        "key_language": params.queries.key_language,
        "max_new_tokens": params.evaluate.max_new_tokens,
        "batch_size": params.evaluate.batch_size,
    }
    reg = register_model(
        root / "models" / cfg.model,
        name=cfg.name,
        schema_path=root / params.queries.schema_,
        settings=settings,
        tags=tags,
        run_id=meta.get("mlflow_run_id"),
        tracking_uri=tracking_uri,
        reason=f"registered from models/{cfg.model}",
    )
    client = registry_client(tracking_uri)
    decision = gate_and_promote(
        cfg.name,
        metric=cfg.gate_metric,
        min_gain=cfg.min_gain,
        force=cfg.force,
        reason="register stage",
        client=client,
    )
    aliases = {}
    for alias in (CHAMPION, CHALLENGER):
        try:
            aliases[alias] = str(client.get_model_version_by_alias(cfg.name, alias).version)
        except MlflowException:  # an alias that does not exist yet
            aliases[alias] = None
    out = {
        "name": cfg.name,
        "version": reg["version"],
        "model_uri": reg["model_uri"],
        "run_id": reg["run_id"],
        "aliases": aliases,
        "test_set_hash": meta["test_set_hash"],
        "decision": decision,
    }
    write_json(root / "reports" / "registry.json", out)
    return out
