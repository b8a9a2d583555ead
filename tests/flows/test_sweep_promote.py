"""The reward sweep (DVC experiments, nested MLflow runs, best → register stage, which gates) and the
promotion flows, on a real MLflow registry in a temporary SQLite store."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from mlflow import MlflowClient

from flows.promote import gate_flow, promote_flow, rollback_flow
from flows.sweep import load_spec, sweep
from medvie.errors import ConfigError
from medvie.registry.promotion import AUDIT_EXPERIMENT

pytestmark = pytest.mark.usefixtures("prefect_api", "mlflow_store")


def test_sweep_runs_each_config_as_an_experiment_and_promotes_the_best(fake):
    spec = {
        "until": "evaluate",
        "metric": "grpo.f1",
        "report": ["grpo.precision"],
        "grid": {"reward.alpha": [0.3, 0.7]},
    }
    (fake.root / "configs" / "sweeps").mkdir(parents=True)
    (fake.root / "configs" / "sweeps" / "test.yaml").write_text(yaml.safe_dump(spec))
    result = sweep(config="configs/sweeps/test.yaml", name="t1", root=str(fake.root))

    rows = {r["name"]: r for r in result["rows"]}
    assert rows["t1-1"]["overrides"] == {"reward.alpha": 0.3} and rows["t1-1"]["score"] == pytest.approx(0.84)
    assert rows["t1-2"]["score"] == pytest.approx(1.0)
    assert result["best"]["name"] == "t1-2"
    # each config trained and evaluated; the best was re-run only up to `register`, from DVC's run cache
    assert [ln for ln in fake.lines() if ln.startswith(("train", "register"))] == [
        "train alpha=0.3",
        "train alpha=0.7",
        "register alpha=0.7",
    ]
    # the best config's register stage registered and gated it; the sweep reported that decision
    promotion = result["promotion"]
    assert (promotion["action"], promotion["reason"], promotion["to_version"]) == (
        "gate",
        "register stage",
        "1",
    )
    assert promotion["result"]["promoted"] is True
    assert (
        subprocess.run(
            ["git", "status", "--porcelain"], cwd=fake.root, capture_output=True, text=True
        ).stdout.strip()
        == "?? configs/"
    )  # the workspace stayed clean

    table = result["table"]
    assert "| experiment | reward.alpha | grpo.f1 | grpo.precision | mlflow run | best |" in table
    assert "| t1-2 | 0.7 | 1 | 0.5 |" in table and table.count("✅") == 1

    client = MlflowClient()
    parent = client.get_run(result["parent_run_id"])
    assert parent.info.status == "FINISHED" and parent.data.metrics["best.grpo.f1"] == pytest.approx(1.0)
    assert parent.data.tags["medvie.sweep.registry_event"] == promotion["mlflow_run_id"]
    assert client.get_model_version("fake-model", "1").tags["metrics.f1"] == repr(1.0)
    assert "sweep/comparison.md" in [a.path for a in client.list_artifacts(parent.info.run_id, "sweep")]
    for row in result["rows"]:  # training nested its run under the parent, named after the experiment
        child = client.get_run(row["mlflow_run_id"])
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.info.run_name == row["name"]


def test_sweep_spec_errors_name_the_key(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("grid: {reward.alpha: [0.3]}\nmetirc: f1\n")
    with pytest.raises(ConfigError, match="'metirc'"):
        load_spec(path)
    path.write_text("until: evaluate\n")
    with pytest.raises(ConfigError, match="no configs"):
        load_spec(path)
    path.write_text("grid: {a: [1, 2], b: [x]}\nconfigs: [{a: 1, b: x}, {c: true}]\n")
    assert load_spec(path).expand() == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}, {"c": True}]


def test_promotion_gate_and_rollback_are_recorded_in_mlflow(fake):
    client = MlflowClient()
    client.create_registered_model("fake-model")
    for f1 in (0.5, 0.7):
        client.create_model_version(
            "fake-model",
            source=(fake.root / "model").as_uri(),
            tags={"metrics.f1": repr(f1), "test_set_hash": "h"},
        )
    first = promote_flow(version="1", reason="first release")
    assert (first["from_version"], first["to_version"], first["changed"]) == (None, "1", True)
    up = promote_flow(version="2", reason="better on new scans")
    assert (up["from_version"], up["to_version"], up["changed"]) == ("1", "2", True)
    down = rollback_flow(reason="regression reported")
    assert (down["from_version"], down["to_version"]) == ("2", "1")
    assert client.get_model_version_by_alias("fake-model", "champion").version == 1

    # the gate reads its rule from params.yaml (register: gate_metric f1, min_gain 0): v2 is better than v1
    promote_flow(version="2", reason="retrained", alias="challenger")
    gate = gate_flow(reason="nightly")
    assert (gate["from_version"], gate["to_version"], gate["result"]["why"]) == (
        "1",
        "2",
        "f1 0.7000 vs 0.5000 (gain +0.2000, needs > 0)",
    )
    assert gate_flow(reason="again")["changed"] is False

    exp = client.get_experiment_by_name(AUDIT_EXPERIMENT)
    runs = client.search_runs(
        [exp.experiment_id],
        filter_string="tags.`medvie.registry.model` = 'fake-model'",
        order_by=["attributes.start_time ASC"],
    )
    events = [
        (
            r.data.params["action"],
            r.data.params["alias"],
            r.data.params["from_version"],
            r.data.params["to_version"],
            r.data.params["reason"],
        )
        for r in runs
    ]
    assert events == [
        ("promote", "champion", "None", "1", "first release"),
        ("promote", "champion", "1", "2", "better on new scans"),
        ("rollback", "champion", "2", "1", "regression reported"),
        ("promote", "challenger", "None", "2", "retrained"),
        ("gate", "champion", "1", "2", "nightly"),
        ("gate", "champion", "2", "2", "again"),
    ]
    assert all(r.data.params["when"] for r in runs)
