"""The one place that reads and moves registry aliases, and the MLflow store they live in.

- `registry_client`, `experiment_id`: the MLflow store (tracking + registry) and an experiment in it,
  created when missing.
- `version_by_alias` / `alias_version` / `aliases`: what an alias points at.
- `promote`, `gate_and_promote`, `rollback`: the alias moves. `challenger` goes to every new version,
  `champion` only when forced, when there is none, or when the challenger is better on the same test set.
- `run_action`: one of those moves as the register stage, the CLI and the flows run it, recorded as
  a run of the MLflow experiment `medvie-registry` (when, from which version to which, why);
  `latest_event` / `latest_event_id` read the last one back.

On a tracking server with auth, a move the server refuses (HTTP 401/403: e.g. `champion` is for reviewers
only, docs/team.md) is a `RegistryPermissionError`, one line naming the server, the user and the fix; the
gate then records "passed, not moved" instead of failing, so a trainer's pipeline still registers.

Every alias move is also recorded as tags on the version it lands on (`promoted.<alias>.*`) and in a
history list on the registered model (`medvie.alias_history`), which `rollback` reads.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from medvie.errors import MedvieError

CHAMPION, CHALLENGER = "champion", "challenger"
HISTORY_TAG = "medvie.alias_history"
HASH_TAG = "test_set_hash"
AUDIT_EXPERIMENT = "medvie-registry"
ACTIONS = ("promote", "gate", "rollback")
EVENT_FILE = "registry_event.json"
_HISTORY_KEEP = 25  # a tag value holds at most 5000 characters
_DENIED_CODES = {"PERMISSION_DENIED", "UNAUTHENTICATED"}


class RegistryPermissionError(MedvieError):
    """The tracking server refused an alias move for the current user."""


def permission_error(exc: Exception, uri: str, name: str, alias: str) -> RegistryPermissionError | None:
    """The one-line error for a refused alias move, or None when `exc` is not a refusal."""
    code = getattr(exc, "error_code", "")
    status = getattr(exc, "get_http_status_code", lambda: 0)()
    if code not in _DENIED_CODES and status not in (401, 403):
        return None
    user = os.environ.get("MLFLOW_TRACKING_USERNAME") or "(no user)"
    if status == 401 or code == "UNAUTHENTICATED":
        why = "credentials refused"
        fix = "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
    else:
        why = (getattr(exc, "message", "") or str(exc)).strip().splitlines()[0][:300]
        fix = "run it as a reviewer (MLFLOW_TRACKING_USERNAME/PASSWORD of one)"
    return RegistryPermissionError(
        f"MLflow server {uri} refused moving {name}@{alias} for user '{user}': {why}; {fix}"
    )


# ---------------------------------------------------------------- the store


def store_uri(uri: str | None = None) -> str:
    """`uri`, else $MLFLOW_TRACKING_URI, else the project's `sqlite:///<root>/mlflow.db`."""
    from medvie.env import mlflow_uris

    return uri or os.environ.get("MLFLOW_TRACKING_URI") or mlflow_uris()[0]


def registry_client(tracking_uri: str | None = None):
    """An MlflowClient of the store: `tracking_uri` for both, else the environment's tracking and registry
    URIs (`medvie.env.apply_defaults` points them at the project's database)."""
    from mlflow import MlflowClient

    uri = store_uri(tracking_uri)
    registry = tracking_uri or os.environ.get("MLFLOW_REGISTRY_URI") or uri
    return MlflowClient(tracking_uri=uri, registry_uri=registry)


def artifact_root(uri: str) -> str | None:
    """Where a new experiment keeps its artifacts: `mlruns/` beside a SQLite database, else the server's
    default."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return None
    return (Path(uri[len(prefix) :]).resolve().parent / "mlruns").as_uri()


def experiment_id(client, name: str) -> str:
    """The id of MLflow experiment `name`, created when missing."""
    from mlflow.exceptions import MlflowException

    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_root(client.tracking_uri))
    except MlflowException:  # another process created it meanwhile
        exp = client.get_experiment_by_name(name)
        if exp is None:
            raise
        return exp.experiment_id


def register_config(root: Path | None = None):
    """The `register` section of the project's params.yaml (defaults when there is no params.yaml)."""
    from medvie.env import project_root
    from medvie.registry.config import RegisterConfig
    from medvie.settings import load_params

    path = (root or project_root()) / "params.yaml"
    return load_params(path).register_ if path.exists() else RegisterConfig()


# ---------------------------------------------------------------- aliases


def version_by_alias(client, name: str, alias: str):
    """The ModelVersion `alias` points at, or None (no such model or alias)."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def alias_version(name: str, alias: str, *, client=None) -> str | None:
    """The version number `alias` points at, or None."""
    version = version_by_alias(client or registry_client(), name, alias)
    return None if version is None else str(version.version)


def aliases(name: str, *, client=None) -> dict[str, str | None]:
    """{champion: version, challenger: version} (None where unset)."""
    client = client or registry_client()
    return {alias: alias_version(name, alias, client=client) for alias in (CHAMPION, CHALLENGER)}


def history(client, name: str) -> list[dict]:
    tags = client.get_registered_model(name).tags or {}
    try:
        return json.loads(tags.get(HISTORY_TAG, "[]"))
    except json.JSONDecodeError:
        return []


# ---------------------------------------------------------------- alias moves


def promote(
    name: str, alias: str, version: str | int, reason: str, *, client=None, kind: str = "promote"
) -> dict:
    """Point `alias` at `version`, recording when, from which version and why."""
    from mlflow.exceptions import MlflowException

    client = client or registry_client()
    version = str(version)
    try:
        client.get_model_version(name, version)
    except MlflowException:
        raise MedvieError(
            f"model {name!r} has no version {version}; see `medvie models --name {name}`"
        ) from None
    prev = version_by_alias(client, name, alias)
    entry = {
        "alias": alias,
        "version": version,
        "previous": str(prev.version) if prev else None,
        "reason": reason or "no reason given",
        "kind": kind,
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        client.set_registered_model_alias(name, alias, version)
    except MlflowException as exc:
        refused = permission_error(exc, str(client.tracking_uri), name, alias)
        if refused is None:
            raise
        raise refused from None
    for key in ("at", "previous", "reason"):
        client.set_model_version_tag(name, version, f"promoted.{alias}.{key}", str(entry[key])[:4000])
    hist = [*history(client, name), entry][-_HISTORY_KEEP:]
    text = json.dumps(hist, ensure_ascii=False)
    while len(text) > 4900 and len(hist) > 1:
        hist = hist[1:]
        text = json.dumps(hist, ensure_ascii=False)
    client.set_registered_model_tag(name, HISTORY_TAG, text)
    return {"name": name, **entry}


def metric_of(version, metric: str) -> float | None:
    try:
        value = float((version.tags or {}).get(f"metrics.{metric}", "nan"))
    except ValueError:
        return None
    return None if math.isnan(value) else value


def gate_and_promote(
    name: str,
    *,
    metric: str = "f1",
    min_gain: float = 0.0,
    force: bool = False,
    reason: str = "",
    client=None,
) -> dict:
    """Move `champion` to the challenger when forced, when there is no champion, or when the challenger's
    test `metric` beats the champion's by more than `min_gain` on the same test set (equal hash tags)."""
    client = client or registry_client()
    challenger = version_by_alias(client, name, CHALLENGER)
    if challenger is None:
        raise MedvieError(f"model {name!r} has no '{CHALLENGER}' version; run the register stage first")
    champion = version_by_alias(client, name, CHAMPION)
    decision: dict[str, Any] = {
        "name": name,
        "metric": metric,
        "challenger": str(challenger.version),
        "champion_before": str(champion.version) if champion else None,
        "challenger_score": metric_of(challenger, metric),
        "champion_score": metric_of(champion, metric) if champion else None,
    }
    if champion is not None and champion.version == challenger.version:
        return {
            **decision,
            "promoted": False,
            "why": "challenger already champion",
            "champion": str(champion.version),
        }
    if force:
        promoted, why = True, "forced"
    elif champion is None:
        promoted, why = True, "no champion yet"
    elif (challenger.tags or {}).get(HASH_TAG) != (champion.tags or {}).get(HASH_TAG):
        promoted, why = (
            False,
            "test sets differ (test_set_hash): scores not comparable; promote by hand or force",
        )
    elif decision["challenger_score"] is None or decision["champion_score"] is None:
        promoted, why = False, f"metric '{metric}' missing on a version"
    else:
        gain = decision["challenger_score"] - decision["champion_score"]
        promoted = gain > min_gain
        why = (
            f"{metric} {decision['challenger_score']:.4f} vs {decision['champion_score']:.4f} "
            f"(gain {gain:+.4f}, needs > {min_gain:g})"
        )
    if promoted:
        try:
            promote(
                name, CHAMPION, challenger.version, f"{reason + ': ' if reason else ''}{why}", client=client
            )
        except RegistryPermissionError as exc:
            # a trainer's run passes the gate but may not move champion: recorded, left to a reviewer
            promoted, why = False, f"{why}; passed but not moved: {exc}"
    return {
        **decision,
        "promoted": promoted,
        "why": why,
        "champion": str(challenger.version) if promoted else (str(champion.version) if champion else None),
    }


def rollback(name: str, reason: str, *, client=None) -> dict:
    """Put `champion` back on the version that held it before the current one."""
    client = client or registry_client()
    current = version_by_alias(client, name, CHAMPION)
    if current is None:
        raise MedvieError(f"model {name!r} has no champion to roll back")
    for entry in reversed(history(client, name)):
        # the promotion that made the current version champion (not a rollback onto it: no ping-pong)
        if (
            entry["alias"] == CHAMPION
            and entry["version"] == str(current.version)
            and entry.get("kind") != "rollback"
        ):
            if not entry.get("previous"):
                break
            return promote(
                name,
                CHAMPION,
                entry["previous"],
                f"rollback from v{current.version}: {reason}",
                client=client,
                kind="rollback",
            )
    raise MedvieError(
        f"model {name!r}: no earlier champion recorded before v{current.version}; use `medvie promote`"
    )


# ---------------------------------------------------------------- recorded actions


def run_action(
    action: str,
    name: str,
    *,
    alias: str = CHAMPION,
    version: str | int | None = None,
    reason: str = "",
    metric: str = "f1",
    min_gain: float = 0.0,
    force: bool = False,
    client=None,
) -> dict[str, Any]:
    """Run one registry action and record it in `medvie-registry`; return the event:
    {"action", "name", "alias", "from_version", "to_version", "changed", "reason", "when", "result",
    "mlflow_run_id"}. `gate` and `rollback` move `champion`; `promote` moves `alias` to `version`."""
    if action not in ACTIONS:
        raise MedvieError(f"unknown registry action '{action}'; use {', '.join(ACTIONS)}")
    client = client or registry_client()
    if action != "promote":
        alias = CHAMPION
    before = alias_version(name, alias, client=client)
    if action == "promote":
        if version is None:
            raise MedvieError("promote needs a version (the registered model version to point the alias at)")
        result = promote(name, alias, version, reason, client=client)
    elif action == "gate":
        result = gate_and_promote(
            name, metric=metric, min_gain=min_gain, force=force, reason=reason, client=client
        )
    else:
        result = rollback(name, reason, client=client)
    after = alias_version(name, alias, client=client)
    event: dict[str, Any] = {
        "action": action,
        "name": name,
        "alias": alias,
        "from_version": before,
        "to_version": after,
        "changed": before != after,
        "reason": reason,
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "result": result,
    }
    event["mlflow_run_id"] = record_event(client, event)
    return event


def record_event(client, event: dict[str, Any]) -> str:
    """Log one registry event as a run of `medvie-registry`; return its run id."""
    run = client.create_run(
        experiment_id(client, AUDIT_EXPERIMENT),
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
    client.log_text(run_id, json.dumps(event, indent=2, default=str), EVENT_FILE)
    client.set_terminated(run_id)
    return run_id


def latest_event_id(name: str, *, client=None) -> str | None:
    """The run id of the last recorded registry event of model `name`, or None."""
    client = client or registry_client()
    exp = client.get_experiment_by_name(AUDIT_EXPERIMENT)
    if exp is None:
        return None
    runs = client.search_runs(
        [exp.experiment_id],
        filter_string=f"tags.`medvie.registry.model` = '{name}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0].info.run_id if runs else None


def latest_event(name: str, *, client=None) -> dict[str, Any] | None:
    """The last recorded registry event of model `name` (with its `mlflow_run_id`), or None."""
    client = client or registry_client()
    run_id = latest_event_id(name, client=client)
    if run_id is None:
        return None
    with tempfile.TemporaryDirectory(prefix="medvie-event-") as tmp:
        path = client.download_artifacts(run_id, EVENT_FILE, tmp)
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    return {**event, "mlflow_run_id": run_id}


# ---------------------------------------------------------------- listing


def list_versions(
    name: str, *, client=None, metrics: tuple[str, ...] = ("f1", "precision", "recall")
) -> list[dict]:
    """Every version, newest first, with aliases, headline metrics and provenance tags."""
    client = client or registry_client()
    rows = []
    # search results carry no aliases in every store: read them from the registered model
    by_version: dict[str, list[str]] = {}
    for alias, ver in (client.get_registered_model(name).aliases or {}).items():
        by_version.setdefault(str(ver), []).append(alias)
    for v in client.search_model_versions(f"name='{name}'"):
        tags = v.tags or {}
        rows.append(
            {
                "version": str(v.version),
                "aliases": sorted(by_version.get(str(v.version), [])),
                **{m: metric_of(v, m) for m in metrics},
                HASH_TAG: tags.get(HASH_TAG),
                "git_commit": tags.get("git_commit"),
                "run_id": v.run_id,
                "created": datetime.fromtimestamp(v.creation_timestamp / 1000, timezone.utc).isoformat(
                    timespec="seconds"
                ),
            }
        )
    return sorted(rows, key=lambda r: int(r["version"]), reverse=True)
