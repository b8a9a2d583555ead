"""MLflow for a training run: params of every section, provenance, per-step metrics, curves as CSV.

A tracking server that stops answering during training (connection refused, 5xx after MLflow's own
retries) ends the stage with one line naming the server (`TrackingServerDown`): the step in progress is
checkpointed first, so a re-run once the server is back resumes from it, in the same MLflow run.

TRL/transformers' own MLflow callback stays off (report_to="none"): it would log all ~190
GRPOConfig fields under bare names, colliding with ours; we log under section prefixes instead.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from medvie.errors import MedvieError
from medvie.io import write_text

EXPERIMENT = "medvie"
_MAX_PARAM = 6000
_BAD_KEY = re.compile(r"[^A-Za-z0-9_\-. :/]")


def flatten(prefix: str, obj: Any) -> dict[str, str]:
    """{"a.b.c": "value"} for nested dicts; lists stay one value."""
    out: dict[str, str] = {}
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.update(flatten(f"{prefix}.{key}" if prefix else str(key), value))
    else:
        out[_BAD_KEY.sub("_", prefix)] = str(obj)[:_MAX_PARAM]
    return out


def params_to_log(params) -> dict[str, str]:
    """`reward.*`, `sampling.*`, `queries.*`, `model.*`, `warmstart.*`, `train.*`, `text.*` from typed
    Params."""
    from medvie.settings import dump_sections

    out: dict[str, str] = {}
    for section, values in dump_sections(params).items():
        out.update(flatten(section, values))
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def provenance(root: Path, queries_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(params, tags): data hashes, dvc.lock hashes of data outputs, git commit."""
    params: dict[str, str] = {}
    for path in sorted(queries_dir.glob("*.jsonl")):
        params[f"data.queries.{path.stem}.sha256"] = sha256_file(path)
    lock = root / "dvc.lock"
    if lock.exists():
        import yaml

        params["dvc.lock.sha256"] = sha256_file(lock)
        stages = (yaml.safe_load(lock.read_text(encoding="utf-8")) or {}).get("stages", {})
        for stage in ("ingest", "sample", "queries", "model", "warmstart"):
            for out in stages.get(stage, {}).get("outs", []) or []:
                if "md5" in out:
                    params[f"dvc.{stage}.{out['path']}.md5"] = str(out["md5"])
    tags = {}
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if commit.returncode == 0:
            tags["mlflow.source.git.commit"] = commit.stdout.strip()
            dirty = subprocess.run(
                ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, timeout=10
            )
            tags["git.dirty"] = str(bool(dirty.stdout.strip())).lower()
    except (OSError, subprocess.SubprocessError):
        pass
    return params, tags


def open_run(client, run_id: str | None, artifact_uri: str, run_name: str) -> tuple[str, str]:
    """(run_id, experiment_id): the run `run_id` if it still exists, else a new one in experiment `medvie`."""
    from mlflow.exceptions import MlflowException

    if run_id:
        try:
            run = client.get_run(run_id)
            if run.info.lifecycle_stage == "active":
                client.update_run(run_id, status="RUNNING")
                return run_id, run.info.experiment_id
        except MlflowException:
            pass
    tags = {"medvie.stage": "train"}
    # A reward sweep (flows/sweep.py) runs each config as a DVC experiment and nests its run under one
    # parent run; the experiment's working copy is a temp dir, so the ids come from the environment.
    parent = os.environ.get("MEDVIE_MLFLOW_PARENT_RUN_ID")
    exp_id = os.environ.get("MEDVIE_MLFLOW_EXPERIMENT_ID") if parent else None
    if parent:
        tags["mlflow.parentRunId"] = parent
        run_name = os.environ.get("MEDVIE_MLFLOW_RUN_NAME") or run_name
    try:
        if not exp_id:
            from medvie.registry.promotion import experiment_id

            exp_id = experiment_id(client, EXPERIMENT)
        run = client.create_run(exp_id, run_name=run_name, tags=tags)
    except Exception as exc:
        if not server_unreachable(exc):
            raise
        raise TrackingServerDown(
            f"MLflow tracking server {client.tracking_uri} is not answering; start it and re-run the stage"
        ) from None
    return run.info.run_id, exp_id


def log_params(client, run_id: str, params: dict[str, str]) -> None:
    """Log params; on a resumed run a changed value (e.g. more max_steps) becomes a tag, as MLflow forbids
    edits."""
    from mlflow.entities import Param, RunTag

    existing = client.get_run(run_id).data.params
    new = [Param(k, v) for k, v in params.items() if k not in existing]
    changed = [RunTag(f"resumed.{k}", v) for k, v in params.items() if k in existing and existing[k] != v]
    for i in range(0, len(new), 100):
        client.log_batch(run_id, params=new[i : i + 100])
    if changed:
        client.log_batch(run_id, tags=changed)


def numeric_metrics(logs: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in logs.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        out[_BAD_KEY.sub("_", key)] = float(value)
    return out


class TrackingServerDown(MedvieError):
    """The MLflow tracking server stopped answering during training."""


def server_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the server is gone (no answer, or 5xx once MLflow's retries are spent), as
    opposed to a request the server refused (4xx), which a re-run would not fix."""
    from mlflow.exceptions import MlflowException, RestException

    if isinstance(exc, RestException):
        return exc.get_http_status_code() >= 500
    if isinstance(exc, MlflowException):
        text = str(exc)
        return any(s in text for s in ("Max retries exceeded", "Connection", "failed with exception"))
    return isinstance(exc, (ConnectionError, TimeoutError, OSError))


def server_down_error(uri: str, run_id: str, step: int, checkpoints: str) -> TrackingServerDown:
    return TrackingServerDown(
        f"MLflow tracking server {uri} stopped answering at step {step}; checkpoints are kept in "
        f"{checkpoints}: start the server and re-run the stage to resume into run {run_id}"
    )


def mlflow_callback(client, run_id: str):
    """A TrainerCallback that sends each log (per step) to the run.

    When the server is unreachable it asks the Trainer to checkpoint this step and stop, then fails the
    training with `TrackingServerDown` at its end; the train stage then leaves the run open (no call to a
    dead server, which would wait through MLflow's retries again) for the re-run to resume into."""
    import time

    from mlflow.entities import Metric
    from transformers import TrainerCallback

    class _MlflowStepLogger(TrainerCallback):
        down: TrackingServerDown | None = None

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or not state.is_world_process_zero or self.down is not None:
                return
            now = int(time.time() * 1000)
            metrics = [Metric(k, v, now, state.global_step) for k, v in numeric_metrics(logs).items()]
            if not metrics:
                return
            try:
                client.log_batch(run_id, metrics=metrics)
            except Exception as exc:
                if not server_unreachable(exc):
                    raise
                self.down = server_down_error(
                    str(client.tracking_uri), run_id, state.global_step, str(args.output_dir)
                )
                control.should_save = True  # the Trainer saves right after logging this step
                control.should_training_stop = True

        def on_train_end(self, args, state, control, **kwargs):
            if self.down is not None:
                raise self.down

    return _MlflowStepLogger()


# curves: file → columns (output name, log key); a key absent from a step's log leaves the cell empty
CURVES: dict[str, list[tuple[str, str]]] = {
    "reward.csv": [
        ("reward", "reward"),
        ("reward_std", "reward_std"),
        ("frac_reward_zero_std", "frac_reward_zero_std"),
    ],
    "completion_length.csv": [
        ("mean", "completions/mean_length"),
        ("min", "completions/min_length"),
        ("max", "completions/max_length"),
        ("truncated_ratio", "completions/clipped_ratio"),
    ],
    "kl.csv": [("kl", "kl")],
    "clip_ratio.csv": [
        ("low_mean", "clip_ratio/low_mean"),
        ("high_mean", "clip_ratio/high_mean"),
        ("region_mean", "clip_ratio/region_mean"),
    ],
    "loss.csv": [
        ("loss", "loss"),
        ("learning_rate", "learning_rate"),
        ("grad_norm", "grad_norm"),
        ("entropy", "entropy"),
    ],
}


def write_curves(log_history: list[dict[str, Any]], plots_dir: Path) -> list[Path]:
    """Per-step CSVs (x: step) for DVC plots; reward parts become columns of reward.csv."""
    rows = [h for h in log_history if "step" in h and "reward" in h]
    parts = sorted({k for h in rows for k in h if k.startswith("rewards/") and k.endswith("/mean")})
    curves = dict(CURVES)
    curves["reward.csv"] = curves["reward.csv"] + [(k.split("/")[1], k) for k in parts]
    written = []
    for name, cols in curves.items():
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["step", *[c for c, _ in cols]])
        for h in rows:
            writer.writerow([h["step"], *[h.get(k, "") for _, k in cols]])
        write_text(plots_dir / name, buf.getvalue())
        written.append(plots_dir / name)
    return written
