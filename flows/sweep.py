"""A reward-configuration sweep: one DVC experiment per config, nested MLflow runs, gated promotion.

Each config runs as `dvc exp run --temp --set-param k=v …` up to the evaluation stage, so the
workspace stays clean and DVC reuses every unchanged stage. Training inside an experiment
logs under one MLflow parent run (env `MEDVIE_MLFLOW_PARENT_RUN_ID`). The best config by the
selection metric (test F1 by default, from `dvc exp show --json`) is re-run up to the
register stage (upstream stages come from DVC's run cache), which registers it and gates it; the
flow publishes that decision.

    python -m flows.sweep                                  # configs/sweeps/reward.yaml
    python -m flows.sweep --config configs/sweeps/reward.yaml --no-promote
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sys
from pathlib import Path
from typing import Any

import yaml
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import flows._setup  # noqa: F401  (environment defaults before Prefect loads its settings)
from flows import _dvc
from flows._report import dig, sweep_table
from flows.pipeline import REGISTER_STAGE, line_logger
from flows.promote import new_registry_event
from medvie.config_base import load_yaml
from medvie.env import project_root
from medvie.errors import ConfigError, MedvieError
from medvie.registry.promotion import experiment_id, latest_event_id, register_config, registry_client

DEFAULT_SPEC = "configs/sweeps/reward.yaml"
# The contract with the training stage: nest your MLflow run under this parent run (tag
# `mlflow.parentRunId`), in this experiment, named after the DVC experiment.
ENV_PARENT_RUN = "MEDVIE_MLFLOW_PARENT_RUN_ID"
ENV_EXPERIMENT = "MEDVIE_MLFLOW_EXPERIMENT_ID"
ENV_RUN_NAME = "MEDVIE_MLFLOW_RUN_NAME"


class SweepSpec(BaseModel):
    """configs/sweeps/*.yaml: which `--set-param` overrides to try and how to pick the best."""

    model_config = ConfigDict(extra="forbid")
    until: str = "evaluate"
    metrics_file: str = "metrics/eval.json"
    metric: str = "grpo.f1"
    mode: str = Field("max", pattern="^(max|min)$")
    report: list[str] = []
    mlflow_experiment: str = "medvie"
    grid: dict[str, list[Any]] = {}
    configs: list[dict[str, Any]] = []

    def expand(self) -> list[dict[str, Any]]:
        """The grid's cartesian product, then the explicit configs; duplicates dropped."""
        out: list[dict[str, Any]] = []
        if self.grid:
            keys = list(self.grid)
            out += [dict(zip(keys, values, strict=True)) for values in itertools.product(*self.grid.values())]
        out += [dict(c) for c in self.configs]
        unique = []
        for cfg in out:
            if cfg not in unique:
                unique.append(cfg)
        return unique


def load_spec(path: Path) -> SweepSpec:
    try:
        raw = load_yaml(path.read_text(encoding="utf-8")) or {}
        spec = SweepSpec.model_validate(raw)
    except FileNotFoundError:
        raise ConfigError(f"{path}: sweep file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"{path}: '{'.'.join(map(str, err['loc']))}': {err['msg']}") from None
    if not spec.expand():
        raise ConfigError(f"{path}: no configs; add a 'grid' of lists or a list of 'configs'")
    return spec


def start_parent_run(experiment: str, sweep_id: str, spec: SweepSpec, configs: list[dict]) -> tuple[str, str]:
    """(run id, experiment id) of the sweep's parent run, created in the project's MLflow store."""
    client = registry_client()
    exp_id = experiment_id(client, experiment)
    run = client.create_run(
        exp_id, run_name=sweep_id, tags={"medvie.sweep": sweep_id, "medvie.stage": "sweep"}
    )
    client.log_param(run.info.run_id, "sweep.metric", spec.metric)
    client.log_param(run.info.run_id, "sweep.n_configs", len(configs))
    client.log_text(run.info.run_id, yaml.safe_dump(spec.model_dump(), sort_keys=False), "sweep/spec.yaml")
    return run.info.run_id, exp_id


def child_runs(parent_id: str, exp_id: str) -> dict[str, str]:
    """{run name: run id} of the runs training nested under the parent."""
    from mlflow import MlflowClient

    runs = MlflowClient().search_runs([exp_id], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'")
    return {r.info.run_name: r.info.run_id for r in runs}


@task(name="dvc-exp-run", cache_policy=NO_CACHE, task_run_name="dvc exp run {name}")
def run_config(
    root: str, name: str, overrides: dict[str, Any], targets: list[str], env: dict[str, str]
) -> str | None:
    """Run one config; return None on success or its one-line error (one failure does not end the sweep)."""
    try:
        _dvc.exp_run(
            Path(root),
            name,
            overrides,
            targets=targets,
            env={**env, ENV_RUN_NAME: name},
            on_line=line_logger(),
        )
    except _dvc.StageFailed as exc:
        get_run_logger().error(str(exc))
        return str(exc)
    return None


@task(name="dvc-exp-show", cache_policy=NO_CACHE)
def collect(root: str, names: list[str]) -> dict[str, dict[str, Any]]:
    return _dvc.exp_results(_dvc.exp_show(Path(root)), names)


def score_rows(
    rows: list[dict[str, Any]], results: dict[str, dict[str, Any]], spec: SweepSpec
) -> dict | None:
    """Fill in each row's score and report columns; mark and return the best row."""
    for row in rows:
        found = results.get(row["name"], {})
        metrics = found.get("metrics", {}).get(spec.metrics_file, {})
        score = dig(metrics, spec.metric)
        row["score"] = score if isinstance(score, (int, float)) and not isinstance(score, bool) else None
        row["extra"] = {k: dig(metrics, k) for k in spec.report}
        if row["error"] is None and row["score"] is None:
            if spec.metrics_file in found.get("errors", {}):
                row["error"] = (
                    f"{spec.metrics_file} is not in the experiment ({found['errors'][spec.metrics_file]});"
                    " commit it to git (cache: false, not git-ignored) or let DVC cache it"
                )
            elif row["name"] not in results:
                row["error"] = "not in `dvc exp show`"
            else:
                row["error"] = f"no '{spec.metric}' in {spec.metrics_file}"
    scored = [r for r in rows if r["error"] is None and r["score"] is not None]
    if not scored:
        return None
    best = (max if spec.mode == "max" else min)(scored, key=lambda r: r["score"])
    best["best"] = True
    return best


@flow(name="medvie-sweep")
def sweep(
    config: str = DEFAULT_SPEC, promote: bool = True, name: str | None = None, root: str | None = None
) -> dict[str, Any]:
    """Run every config as a DVC experiment; compare; register the best (its register stage gates it)."""
    import mlflow

    root = str(Path(root).resolve() if root else project_root())
    spec = load_spec(Path(root) / config)
    configs = spec.expand()
    order = _dvc.stage_order(Path(root))
    if spec.until not in order:
        raise ConfigError(f"{config}: 'until' names no stage of dvc.yaml ({', '.join(order)})")
    sweep_id = name or "sweep-" + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    parent_id, exp_id = start_parent_run(spec.mlflow_experiment, sweep_id, spec, configs)
    # experiments run in a temporary copy of the repo: pin MLflow to this project's store
    env = {
        ENV_PARENT_RUN: parent_id,
        ENV_EXPERIMENT: exp_id,
        "MEDVIE_MLFLOW_STORE_ROOT": str(Path(root).resolve()),
        "MLFLOW_TRACKING_URI": mlflow.get_tracking_uri(),
        "MLFLOW_REGISTRY_URI": mlflow.get_registry_uri(),
    }
    client = registry_client()
    status = "FAILED"
    try:
        rows = []
        for i, overrides in enumerate(configs, 1):
            exp_name = f"{sweep_id}-{i}"
            error = run_config(root, exp_name, overrides, [spec.until], env)
            rows.append({"name": exp_name, "overrides": overrides, "error": error})
        best = score_rows(rows, collect(root, [r["name"] for r in rows]), spec)
        children = child_runs(parent_id, exp_id)
        for row in rows:
            row["mlflow_run_id"] = children.get(row["name"])
        keys = list(dict.fromkeys(k for c in configs for k in c))
        markdown = _comparison(sweep_id, rows, keys, spec, best)
        create_markdown_artifact(key="medvie-sweep", markdown=markdown, description=f"sweep {sweep_id}")
        client.log_text(parent_id, markdown, "sweep/comparison.md")
        if best is None:
            raise MedvieError(
                f"sweep {sweep_id}: no config produced '{spec.metric}'; see the comparison table"
            )
        client.log_metric(parent_id, f"best.{spec.metric}", float(best["score"]))
        client.set_tag(parent_id, "medvie.sweep.best", best["name"])
        promotion = None
        if promote and REGISTER_STAGE in order:
            model_name = register_config(Path(root)).name
            before = latest_event_id(model_name)
            best_name = f"{sweep_id}-best"
            error = run_config(root, best_name, best["overrides"], [REGISTER_STAGE], env)
            if error:
                raise MedvieError(error)
            promotion = new_registry_event(model_name, before)
            if promotion:
                client.set_tag(parent_id, "medvie.sweep.registry_event", promotion["mlflow_run_id"])
        status = "FINISHED"
    finally:
        client.set_terminated(parent_id, status=status)
    return {
        "sweep": sweep_id,
        "parent_run_id": parent_id,
        "rows": rows,
        "best": best,
        "table": markdown,
        "promotion": promotion,
    }


def _comparison(sweep_id: str, rows: list[dict], keys: list[str], spec: SweepSpec, best: dict | None) -> str:
    parts = [f"## Sweep {sweep_id}", sweep_table(rows, keys, spec.metric, spec.report)]
    failed = [r for r in rows if r["error"]]
    if failed:
        parts.append("Failed configs:\n\n" + "\n".join(f"- `{r['name']}`: {r['error']}" for r in failed))
    if best is not None:
        parts.append(f"Best by `{spec.metric}` ({spec.mode}): `{best['name']}` {best['overrides']}")
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m flows.sweep", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=DEFAULT_SPEC, help="sweep file (relative to the project root)")
    ap.add_argument("--name", help="sweep id (prefix of the DVC experiment names)")
    ap.add_argument("--no-promote", action="store_true", help="compare only; register nothing")
    args = ap.parse_args(argv)
    try:
        result = sweep(config=args.config, promote=not args.no_promote, name=args.name)
    except MedvieError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result["table"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
