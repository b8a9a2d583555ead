"""Promotion, gated promotion and rollback of the `champion` alias as Prefect flows.

Each runs one action of `medvie.registry.promotion.run_action`, which records it as a run of the
MLflow experiment `medvie-registry` (when, from which version to which, why); the flow adds a
Prefect artifact. The model name and the gate rule come from params.yaml's `register` section.

    python -m flows.promote promote --version 3 --reason "manual review passed"
    python -m flows.promote gate --reason "nightly retrain"
    python -m flows.promote rollback --reason "regression on new scans"
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

import flows._setup  # noqa: F401  (environment defaults before Prefect loads its settings)
from flows._report import table
from medvie.errors import MedvieError
from medvie.registry.promotion import CHAMPION, latest_event, register_config, run_action


def publish_event(event: dict[str, Any]) -> None:
    """A Prefect artifact of one recorded registry event."""
    name, alias = event["name"], event["alias"]
    create_markdown_artifact(
        key="medvie-registry",
        markdown=f"## Registry: {event['action']} `{name}@{alias}`\n\n"
        + table(
            ["from", "to", "changed", "reason", "when", "mlflow run"],
            [
                [
                    event["from_version"],
                    event["to_version"],
                    event["changed"],
                    event["reason"],
                    event["when"],
                    event["mlflow_run_id"],
                ]
            ],
        ),
        description=f"{event['action']} {name}@{alias}",
    )


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
    """Run one registry action (recorded in MLflow) and publish what changed, and why, as an artifact."""
    event = run_action(
        action,
        name,
        alias=alias,
        version=version,
        reason=reason,
        metric=metric,
        min_gain=min_gain,
        force=force,
    )
    publish_event(event)
    return event


@task(name="registry-event", cache_policy=NO_CACHE)
def new_registry_event(name: str, before: str | None) -> dict[str, Any] | None:
    """The registry event the register stage recorded since the event `before` (a run id), published; None
    when it recorded none (DVC found the stage up to date)."""
    event = latest_event(name)
    if event is None or event["mlflow_run_id"] == before:
        return None
    publish_event(event)
    return event


@flow(name="medvie-promote")
def promote_flow(version: str, reason: str, name: str | None = None, alias: str = CHAMPION) -> dict[str, Any]:
    """Point `alias` (champion by default) at `version`, unconditionally."""
    return registry_action(
        "promote", name or register_config().name, alias=alias, version=version, reason=reason
    )


@flow(name="medvie-gate")
def gate_flow(
    reason: str = "gated promotion", name: str | None = None, force: bool = False
) -> dict[str, Any]:
    """Promote the challenger to champion only if it beats the champion on the gate metric."""
    cfg = register_config()
    return registry_action(
        "gate",
        name or cfg.name,
        reason=reason,
        metric=cfg.gate_metric,
        min_gain=cfg.min_gain,
        force=force,
    )


@flow(name="medvie-rollback")
def rollback_flow(reason: str, name: str | None = None) -> dict[str, Any]:
    """Point champion back at the version it had before the last promotion."""
    return registry_action("rollback", name or register_config().name, reason=reason)


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
