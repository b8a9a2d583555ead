"""The reward sweep (DVC experiments, nested MLflow runs, best → register → gate) and promotion flows."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from mlflow import MlflowClient

from flows.promote import AUDIT_EXPERIMENT, promote_flow, rollback_flow
from flows.sweep import load_spec, sweep

pytestmark = pytest.mark.usefixtures("prefect_api", "mlflow_store")


def test_sweep_runs_each_config_as_an_experiment_and_promotes_the_best(fake, fake_registry):
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
    assert [c[0] for c in fake_registry] == ["gate"] and "t1: best config" in fake_registry[0][4]
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
    assert "sweep/comparison.md" in [a.path for a in client.list_artifacts(parent.info.run_id, "sweep")]
    for row in result["rows"]:  # training nested its run under the parent, named after the experiment
        child = client.get_run(row["mlflow_run_id"])
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.info.run_name == row["name"]


def test_sweep_spec_errors_name_the_key(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("grid: {reward.alpha: [0.3]}\nmetirc: f1\n")
    with pytest.raises(Exception, match="'metirc'"):
        load_spec(path)
    path.write_text("until: evaluate\n")
    with pytest.raises(Exception, match="no configs"):
        load_spec(path)
    path.write_text("grid: {a: [1, 2], b: [x]}\nconfigs: [{a: 1, b: x}, {c: true}]\n")
    assert load_spec(path).expand() == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}, {"c": True}]


def test_promotion_and_rollback_are_recorded_in_mlflow(fake, fake_registry):
    client = MlflowClient()
    client.create_registered_model("fake-model")
    for _ in range(2):
        client.create_model_version("fake-model", source=(fake.root / "model").as_uri())
    client.set_registered_model_alias("fake-model", "champion", "1")

    up = promote_flow(version="2", reason="better on new scans")
    assert (up["from_version"], up["to_version"], up["changed"]) == ("1", "2", True)
    down = rollback_flow(reason="regression reported")
    assert (down["from_version"], down["to_version"]) == ("2", "1")
    assert [c[0] for c in fake_registry] == ["promote", "rollback"]

    exp = client.get_experiment_by_name(AUDIT_EXPERIMENT)
    runs = client.search_runs(
        [exp.experiment_id],
        filter_string="tags.`medvie.registry.model` = 'fake-model'",
        order_by=["attributes.start_time ASC"],
    )
    events = [
        (
            r.data.params["action"],
            r.data.params["from_version"],
            r.data.params["to_version"],
            r.data.params["reason"],
        )
        for r in runs
    ]
    assert events[-2:] == [
        ("promote", "1", "2", "better on new scans"),
        ("rollback", "2", "1", "regression reported"),
    ]
    assert all(r.data.params["when"] for r in runs)
