"""Promotion, gated promotion and rollback of the `champion` alias, each recorded in MLflow.

Every action becomes one run in the MLflow experiment `medvie-registry`: when (the run's
time and a `when` param), from which version to which, and why (the reason).

    python -m flows.promote promote --version 3 --reason "manual review passed"
    python -m flows.promote gate --reason "nightly retrain"
    python -m flows.promote rollback --reason "regression on new scans"
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

import flows._setup  # noqa: F401  (environment defaults before Prefect loads its settings)
from flows._report import table
from medvie.config_base import load_yaml
from medvie.env import mlflow_uris, project_root
from medvie.errors import MedvieError

AUDIT_EXPERIMENT = "medvie-registry"
CHAMPION = "champion"


def register_settings(root: Path | None = None) -> dict[str, Any]:
    """`register.{name, gate_metric, min_gain}` from params.yaml, with the documented defaults."""
    path = (root or project_root()) / "params.yaml"
    raw = load_yaml(path.read_text(encoding="utf-8")) if path.exists() else {}
    section = (raw or {}).get("register") or {}
    return {
        "name": section.get("name", "medvie"),
        "metric": section.get("gate_metric", "f1"),
        "min_gain": float(section.get("min_gain", 0.0)),
    }


def alias_version(name: str, alias: str) -> str | None:
    """The version an alias points at now, or None (no such model or alias)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        return str(MlflowClient().get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def record(event: dict[str, Any]) -> str:
    """Log one registry event as an MLflow run; return its run id."""
    from mlflow import MlflowClient

    client = MlflowClient()
    exp = client.get_experiment_by_name(AUDIT_EXPERIMENT)
    exp_id = (
        exp.experiment_id
        if exp
        else client.create_experiment(AUDIT_EXPERIMENT, artifact_location=mlflow_uris()[1])
    )
    run = client.create_run(
        exp_id,
        run_name=f"{event['action']} {event['name']}@{event['alias']}",
        tags={
            "medvie.registry.action": event["action"],
            "medvie.registry.model": event["name"],
            "mlflow.note.content": event["reason"] or "",
        },
    )
    run_id = run.info.run_id
    for key in ("action", "name", "alias", "from_version", "to_version", "changed", "reason", "when"):
        client.log_param(run_id, key, str(event[key])[:6000])
    client.log_text(run_id, json.dumps(event, indent=2, default=str), "registry_event.json")
    client.set_terminated(run_id)
    return run_id


def _call_registry(
    action: str,
    name: str,
    alias: str,
    version: str | None,
    reason: str,
    metric: str,
    min_gain: float,
    force: bool,
) -> Any:
    from medvie import registry

    fn = getattr(registry, {"promote": "promote", "gate": "gate_and_promote", "rollback": "rollback"}[action])
    if action == "promote":
        if version is None:
            raise MedvieError("promote needs --version (the registered model version to point the alias at)")
        return fn(name, alias, version, reason)
    if action == "gate":
        return fn(name, metric=metric, min_gain=min_gain, force=force, reason=reason)
    return fn(name, reason)


@task(name="registry-action", cache_policy=NO_CACHE)
def registry_action(
    action: str,
    name: str,
    *,
    alias: str = CHAMPION,
    version: str | None = None,
    reason: str = "",
    metric: str = "f1",
    min_gain: float = 0.0,
    force: bool = False,
) -> dict[str, Any]:
    """Run one registry action, then record what changed (and why) in MLflow and as an artifact."""
    if action not in ("promote", "gate", "rollback"):
        raise MedvieError(f"unknown registry action '{action}'; use promote, gate or rollback")
    before = alias_version(name, alias)
    result = _call_registry(action, name, alias, version, reason, metric, min_gain, force)
    after = alias_version(name, alias)
    event = {
        "action": action,
        "name": name,
        "alias": alias,
        "from_version": before,
        "to_version": after,
        "changed": before != after,
        "reason": reason,
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "result": result,
    }
    event["mlflow_run_id"] = record(event)
    create_markdown_artifact(
        key="medvie-registry",
        markdown=f"## Registry: {action} `{name}@{alias}`\n\n"
        + table(
            ["from", "to", "changed", "reason", "when", "mlflow run"],
            [[before, after, event["changed"], reason, event["when"], event["mlflow_run_id"]]],
        ),
        description=f"{action} {name}@{alias}",
    )
    return event


@flow(name="medvie-promote")
def promote_flow(version: str, reason: str, name: str | None = None, alias: str = CHAMPION) -> dict[str, Any]:
    """Point `alias` (champion by default) at `version`, unconditionally."""
    name = name or register_settings()["name"]
    return registry_action("promote", name, alias=alias, version=version, reason=reason)


@flow(name="medvie-gate")
def gate_flow(
    reason: str = "gated promotion", name: str | None = None, force: bool = False
) -> dict[str, Any]:
    """Promote the challenger to champion only if it beats the champion on the gate metric."""
    cfg = register_settings()
    return registry_action(
        "gate",
        name or cfg["name"],
        reason=reason,
        metric=cfg["metric"],
        min_gain=cfg["min_gain"],
        force=force,
    )


@flow(name="medvie-rollback")
def rollback_flow(reason: str, name: str | None = None) -> dict[str, Any]:
    """Point champion back at the version it had before the last promotion."""
    return registry_action("rollback", name or register_settings()["name"], reason=reason)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m flows.promote", description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=["promote", "gate", "rollback"])
    ap.add_argument("--reason", required=True, help="why; recorded in MLflow")
    ap.add_argument("--version", help="model version (promote only)")
    ap.add_argument("--name", help="registered model name (default: params.yaml register.name)")
    ap.add_argument("--alias", default=CHAMPION)
    ap.add_argument("--force", action="store_true", help="gate: promote even if not better")
    args = ap.parse_args(argv)
    if args.action == "promote" and not args.version:
        ap.error("promote needs --version")
    try:
        if args.action == "promote":
            event = promote_flow(args.version, args.reason, name=args.name, alias=args.alias)
        elif args.action == "gate":
            event = gate_flow(args.reason, name=args.name, force=args.force)
        else:
            event = rollback_flow(args.reason, name=args.name)
    except MedvieError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{event['name']}@{event['alias']}: {event['from_version']} -> {event['to_version']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
