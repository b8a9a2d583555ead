"""Registry actions on a real MLflow registry (temporary SQLite): gated promotion, history, rollback, the
recorded events, and the store helpers every caller shares."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest

from medvie.errors import MedvieError
from medvie.registry.promotion import (
    HISTORY_TAG,
    alias_version,
    aliases,
    artifact_root,
    experiment_id,
    gate_and_promote,
    history,
    latest_event,
    list_versions,
    promote,
    register_config,
    registry_client,
    rollback,
    run_action,
)


@pytest.fixture()
def client(store):
    c = registry_client()
    try:
        c.delete_registered_model("m")
    except mlflow.exceptions.MlflowException:
        pass
    c.create_registered_model("m")
    return c


def _version(client, tmp_path, f1: float, test_hash: str = "h1") -> str:
    """A registered version carrying the tags the register stage writes (no model files needed here)."""
    v = client.create_model_version(
        "m", source=str(tmp_path), tags={"metrics.f1": repr(f1), "test_set_hash": test_hash}
    )
    promote("m", "challenger", v.version, "new version", client=client)
    return str(v.version)


def test_gating_promotes_only_a_better_challenger(client, tmp_path):
    v1 = _version(client, tmp_path, 0.50)
    first = gate_and_promote("m", client=client)
    assert first["promoted"] and first["why"] == "no champion yet" and first["champion"] == v1

    v2 = _version(client, tmp_path, 0.60)
    better = gate_and_promote("m", client=client)
    assert better["promoted"] and better["champion"] == v2 and better["champion_before"] == v1

    v3 = _version(client, tmp_path, 0.40)
    worse = gate_and_promote("m", client=client)
    assert not worse["promoted"] and worse["champion"] == v2
    assert aliases("m", client=client) == {"champion": v2, "challenger": v3}

    # a higher score on another test set is not comparable, and an equal score is not a gain
    _version(client, tmp_path, 0.99, test_hash="h2")
    assert not gate_and_promote("m", client=client)["promoted"]
    _version(client, tmp_path, 0.60)
    assert not gate_and_promote("m", client=client)["promoted"]
    _version(client, tmp_path, 0.65)
    assert not gate_and_promote("m", min_gain=0.1, client=client)["promoted"]
    forced = gate_and_promote("m", force=True, reason="manual review", client=client)
    assert forced["promoted"] and forced["why"] == "forced"


def test_promote_records_history_and_rollback_restores_previous(client, tmp_path):
    v1, v2 = _version(client, tmp_path, 0.5), _version(client, tmp_path, 0.7)
    promote("m", "champion", v1, "first", client=client)
    promote("m", "champion", v2, "better on review", client=client)
    tags = client.get_model_version("m", v2).tags
    assert tags["promoted.champion.reason"] == "better on review" and tags["promoted.champion.previous"] == v1
    hist = history(client, "m")
    assert [h["version"] for h in hist if h["alias"] == "champion"] == [v1, v2]
    assert HISTORY_TAG in client.get_registered_model("m").tags

    back = rollback("m", "regression in production", client=client)
    assert back["version"] == v1 and back["previous"] == v2 and "regression" in back["reason"]
    assert alias_version("m", "champion") == v1
    rows = list_versions("m", client=client)
    assert [r["version"] for r in rows] == [v2, v1] and "champion" in rows[1]["aliases"]

    with pytest.raises(MedvieError, match="no version 99"):
        promote("m", "champion", "99", "typo", client=client)
    with pytest.raises(MedvieError, match="no earlier champion"):
        rollback("m", "again", client=client)


def test_every_action_is_recorded_and_the_last_one_read_back(client, tmp_path):
    assert alias_version("m", "champion") is None and alias_version("no-such-model", "champion") is None
    v1 = _version(client, tmp_path, 0.5)
    gate = run_action("gate", "m", reason="first gate")
    assert (gate["from_version"], gate["to_version"], gate["changed"]) == (None, v1, True)
    assert gate["result"]["why"] == "no champion yet"
    v2 = _version(client, tmp_path, 0.4)
    manual = run_action("promote", "m", version=v2, reason="reviewed by hand")
    assert (manual["from_version"], manual["to_version"], manual["alias"]) == (v1, v2, "champion")
    back = run_action("rollback", "m", alias="challenger", reason="regression")  # rollback moves champion
    assert (back["alias"], back["from_version"], back["to_version"]) == ("champion", v2, v1)

    last = latest_event("m")
    assert last == json.loads(json.dumps(back, default=str))
    run = client.get_run(back["mlflow_run_id"])
    assert run.data.params["reason"] == "regression" and run.data.tags["medvie.registry.action"] == "rollback"
    assert latest_event("no-such-model") is None

    with pytest.raises(MedvieError, match="unknown registry action 'demote'"):
        run_action("demote", "m")
    with pytest.raises(MedvieError, match="promote needs a version"):
        run_action("promote", "m")


def test_experiments_are_created_once_with_artifacts_beside_the_database(store):
    c = registry_client()
    first = experiment_id(c, "medvie-test")
    assert experiment_id(c, "medvie-test") == first
    db = Path(store.removeprefix("sqlite:///"))
    assert c.get_experiment(first).artifact_location == (db.parent / "mlruns").as_uri()
    assert artifact_root("http://mlflow.example:5000") is None  # a server keeps its own default


def test_register_config_is_read_through_the_params_parser(tmp_path):
    assert register_config(tmp_path).name == "medvie"  # no params.yaml: the defaults
    (tmp_path / "params.yaml").write_text("register:\n  name: other\n  min_gain: 0.01\n")
    cfg = register_config(tmp_path)
    assert (cfg.name, cfg.min_gain, cfg.gate_metric) == ("other", 0.01, "f1")
    (tmp_path / "params.yaml").write_text("register:\n  nmae: other\n")
    with pytest.raises(MedvieError, match="unknown key 'register.nmae'"):
        register_config(tmp_path)
