"""Markdown tables for Prefect artifacts and MLflow: metrics files, MLflow run links, sweeps."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

Scalar = (int, float, str, bool)


def dig(data: Any, dotted: str) -> Any:
    """`data["a"]["b"]` for "a.b"; None when any part is missing."""
    for part in dotted.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return ""
    return str(value).replace("|", "\\|")


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def read_metrics(root: Path) -> dict[str, Any]:
    """Every `metrics/*.json` (relative name → parsed JSON); unreadable files are skipped."""
    found = {}
    for path in sorted((root / "metrics").glob("*.json")):
        try:
            found[path.relative_to(root).as_posix()] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
    return found


def metrics_table(name: str, data: Any) -> str:
    """One file as a table: rows are its sections (e.g. models), columns their scalar metrics."""
    if not isinstance(data, Mapping):
        return f"### {name}\n\n{fmt(data)}"
    scalars = {k: v for k, v in data.items() if isinstance(v, Scalar)}
    sections = {k: v for k, v in data.items() if isinstance(v, Mapping)}
    parts = [f"### {name}"]
    columns: list[str] = []
    for sec in sections.values():
        columns += [k for k, v in sec.items() if isinstance(v, Scalar) and k not in columns]
    if sections and columns:
        rows = [[sec_name, *(sec.get(c) for c in columns)] for sec_name, sec in sections.items()]
        parts.append(table(["", *columns], rows))
    if scalars:
        parts.append(table(["metric", "value"], [[k, v] for k, v in scalars.items()]))
    return "\n\n".join(parts)


def metrics_markdown(metrics: Mapping[str, Any]) -> str:
    if not metrics:
        return "No metrics files under `metrics/` yet."
    return "\n\n".join(metrics_table(name, data) for name, data in metrics.items())


def mlflow_ui_url() -> str:
    return os.environ.get("MEDVIE_MLFLOW_UI_URL", "http://127.0.0.1:5000").rstrip("/")


def run_link(experiment_id: str, run_id: str) -> str:
    return f"{mlflow_ui_url()}/#/experiments/{experiment_id}/runs/{run_id}"


def sweep_table(rows: list[dict[str, Any]], keys: list[str], metric: str, extra: list[str]) -> str:
    """Configs × (overrides, metrics); the best row is marked."""
    header = ["experiment", *keys, metric, *extra, "mlflow run", "best"]
    body = [
        [
            r["name"],
            *(r["overrides"].get(k) for k in keys),
            r.get("score"),
            *(r.get("extra", {}).get(e) for e in extra),
            r.get("mlflow_run_id"),
            "✅" if r.get("best") else "",
        ]
        for r in rows
    ]
    return table(header, body)
