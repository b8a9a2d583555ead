"""The whole pipeline as one Prefect flow: `dvc repro <stage>` per stage, in DAG order.

DVC decides what is up to date; Prefect adds retries for transient failures, logs, artifacts
(metrics table, MLflow run link). The register stage registers the new challenger and gates it; the
flow publishes that decision (it does not gate again).

    python -m flows.pipeline                   # every stage, the register stage's gate included
    python -m flows.pipeline --until train     # stop after a stage
    python -m flows.pipeline --no-promote      # every stage but register: nothing registered or promoted

After a successful run the outputs are pushed to the project's default DVC remote, when it has one
(the team setup, docs/team.md); without a remote nothing is pushed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

import flows._setup  # noqa: F401  (environment defaults before Prefect loads its settings)
from flows import _dvc
from flows._report import metrics_markdown, read_metrics, run_link, table
from flows.promote import new_registry_event
from medvie.env import project_root
from medvie.errors import MedvieError
from medvie.registry.promotion import latest_event_id, register_config

REGISTER_STAGE = "register"
MLFLOW_RUN_FILE = "models/grpo/mlflow_run.json"
_MAX_LOG_LINE = 500


def retry_if_transient(task, task_run, state) -> bool:
    """Retry only what may pass next time; a deterministic stage error fails at once."""
    exc = state.data if isinstance(state.data, BaseException) else state.result(raise_on_failure=False)
    return isinstance(exc, _dvc.StageFailed) and exc.transient


def line_logger():
    logger = get_run_logger()

    def on_line(stream: str, line: str) -> None:
        line = line.split("\r")[-1].strip()  # progress bars redraw with \r: keep the last frame
        if line:
            logger.info(line[:_MAX_LOG_LINE])

    return on_line


@task(name="dvc-stage-order", cache_policy=NO_CACHE)
def read_stage_order(root: str) -> list[str]:
    return _dvc.stage_order(Path(root))


@task(
    name="dvc-repro",
    cache_policy=NO_CACHE,
    retries=1,
    retry_delay_seconds=30,
    retry_condition_fn=retry_if_transient,
    task_run_name="dvc repro {stage}",
)
def repro_stage(stage: str, root: str) -> str:
    _dvc.repro(stage, Path(root), on_line=line_logger())
    return stage


def select_stages(order: list[str], stages: list[str] | None, until: str | None) -> list[str]:
    for name in [*(stages or []), *([until] if until else [])]:
        if name not in order:
            raise MedvieError(f"dvc.yaml has no stage '{name}'; stages are: {', '.join(order)}")
    if until:
        order = order[: order.index(until) + 1]
    if stages:
        order = [s for s in order if s in stages]
    return order


@task(name="publish-artifacts", cache_policy=NO_CACHE)
def publish_artifacts(root: str) -> dict[str, Any]:
    """A metrics table from metrics/*.json and the MLflow run of the last training."""
    root_path = Path(root)
    metrics = read_metrics(root_path)
    create_markdown_artifact(
        key="medvie-metrics",
        markdown="## Metrics\n\n" + metrics_markdown(metrics),
        description="metrics/*.json after this pipeline run",
    )
    run_file = root_path / MLFLOW_RUN_FILE
    mlflow_run = None
    if run_file.exists():
        try:
            mlflow_run = json.loads(run_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            get_run_logger().warning(f"{MLFLOW_RUN_FILE}: invalid JSON; no MLflow link published")
    if mlflow_run and mlflow_run.get("run_id"):
        link = run_link(str(mlflow_run.get("experiment_id", "0")), mlflow_run["run_id"])
        create_link_artifact(
            key="medvie-mlflow-run", link=link, link_text=f"MLflow run {mlflow_run['run_id']}"
        )
        create_markdown_artifact(
            key="medvie-mlflow-run-info",
            markdown="## MLflow run\n\n"
            + table(
                ["run id", "experiment", "tracking URI", "link"],
                [
                    [
                        mlflow_run["run_id"],
                        mlflow_run.get("experiment_id"),
                        mlflow_run.get("tracking_uri"),
                        link,
                    ]
                ],
            ),
        )
    return {"metrics": metrics, "mlflow_run": mlflow_run}


@task(name="dvc-push", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def push_outputs(root: str) -> str | None:
    """`dvc push` to the default remote; None (nothing pushed) when the project has no remote."""
    remote = _dvc.default_remote(Path(root))
    if remote is None:
        get_run_logger().info("no default DVC remote: outputs not pushed")
        return None
    _dvc.push(Path(root), on_line=line_logger())
    return remote


@flow(name="medvie-pipeline")
def pipeline(
    stages: list[str] | None = None,
    until: str | None = None,
    retries: int = 1,
    retry_delay_seconds: float = 30.0,
    promote: bool = True,
    root: str | None = None,
    push: bool = True,
) -> dict[str, Any]:
    """Run the DVC stages in DAG order (without `register` unless `promote`); publish the register stage's
    gate decision when it ran; then `dvc push` when `push` and the project has a default remote."""
    root = str(Path(root).resolve() if root else project_root())
    order = select_stages(read_stage_order(root), stages, until)
    if not promote:
        order = [s for s in order if s != REGISTER_STAGE]
    name = register_config(Path(root)).name if REGISTER_STAGE in order else None
    before = latest_event_id(name) if name else None
    run_stage = repro_stage.with_options(retries=retries, retry_delay_seconds=retry_delay_seconds)
    for stage in order:
        run_stage(stage, root)
    published = publish_artifacts(root)
    promotion = new_registry_event(name, before) if name else None
    pushed = push_outputs(root) if push else None
    return {"stages": order, **published, "promotion": promotion, "pushed_to": pushed}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m flows.pipeline", description=__doc__.split("\n\n")[0])
    ap.add_argument("--stages", nargs="+", help="only these stages (still in DAG order)")
    ap.add_argument("--until", help="stop after this stage")
    ap.add_argument("--retries", type=int, default=1, help="retries of a transient stage failure")
    ap.add_argument("--retry-delay", type=float, default=30.0, help="seconds between retries")
    ap.add_argument(
        "--no-promote", action="store_true", help="skip the register stage: register and promote nothing"
    )
    args = ap.parse_args(argv)
    try:
        result = pipeline(
            stages=args.stages,
            until=args.until,
            retries=args.retries,
            retry_delay_seconds=args.retry_delay,
            promote=not args.no_promote,
        )
    except MedvieError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"ran stages: {' → '.join(result['stages'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
