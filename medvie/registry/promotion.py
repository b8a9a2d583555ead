"""Aliases of registered versions: `challenger` for every new version, `champion` only when it is better.

Every alias move is recorded twice: as tags on the version it lands on (`promoted.<alias>.*`) and
in a history list on the registered model (`medvie.alias_history`), which `rollback` reads.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any

from medvie.errors import MedvieError

CHAMPION, CHALLENGER = "champion", "challenger"
HISTORY_TAG = "medvie.alias_history"
HASH_TAG = "test_set_hash"
_HISTORY_KEEP = 25  # a tag value holds at most 5000 characters


def registry_client(tracking_uri: str | None = None):
    from mlflow import MlflowClient

    from medvie.env import mlflow_uris

    uri = tracking_uri or mlflow_uris()[0]
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _version_by_alias(client, name: str, alias: str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def history(client, name: str) -> list[dict]:
    tags = client.get_registered_model(name).tags or {}
    try:
        return json.loads(tags.get(HISTORY_TAG, "[]"))
    except json.JSONDecodeError:
        return []


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
    prev = _version_by_alias(client, name, alias)
    entry = {
        "alias": alias,
        "version": version,
        "previous": str(prev.version) if prev else None,
        "reason": reason or "no reason given",
        "kind": kind,
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    client.set_registered_model_alias(name, alias, version)
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
    challenger = _version_by_alias(client, name, CHALLENGER)
    if challenger is None:
        raise MedvieError(f"model {name!r} has no '{CHALLENGER}' version; run the register stage first")
    champion = _version_by_alias(client, name, CHAMPION)
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
            f"{metric} {decision['challenger_score']:.4f} vs {decision['champion_score']:.4f} (gain {gain:+.4f}, "
            f"needs > {min_gain:g})"
        )
    if promoted:
        promote(name, CHAMPION, challenger.version, f"{reason + ': ' if reason else ''}{why}", client=client)
    return {
        **decision,
        "promoted": promoted,
        "why": why,
        "champion": str(challenger.version) if promoted else (str(champion.version) if champion else None),
    }


def rollback(name: str, reason: str, *, client=None) -> dict:
    """Put `champion` back on the version that held it before the current one."""
    client = client or registry_client()
    current = _version_by_alias(client, name, CHAMPION)
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
