"""The pipeline flow on a fake DVC project: DAG order, DVC caching, failures, retries, artifacts, and the
register stage's gate reported (not repeated) by the flow."""

from __future__ import annotations

import json

import pytest
from mlflow import MlflowClient
from prefect.client.orchestration import get_client

from flows.deploy import retrain
from flows.pipeline import pipeline, select_stages
from medvie.errors import MedvieError
from medvie.registry.promotion import AUDIT_EXPERIMENT

pytestmark = pytest.mark.usefixtures("prefect_api", "mlflow_store")


def artifacts_of(flow_run_id) -> dict[str, str]:
    """{key: data} of a flow run's artifacts.

    Raw REST: this client's read_artifacts sends nulls the server's filter schema rejects (422).
    """
    body = {
        "artifacts": {"flow_run_id": {"any_": [str(flow_run_id)]}},
        "flow_runs": {},
        "task_runs": {},
        "limit": 50,
        "offset": 0,
        "sort": "CREATED_DESC",
    }
    with get_client(sync_client=True) as client:
        response = client.request("POST", "/artifacts/filter", json=body)
    response.raise_for_status()
    return {a["key"]: a["data"] for a in response.json()}


def audit_runs(name: str) -> list:
    client = MlflowClient()
    exp = client.get_experiment_by_name(AUDIT_EXPERIMENT)
    return client.search_runs([exp.experiment_id], filter_string=f"tags.`medvie.registry.model` = '{name}'")


def test_runs_stages_in_dag_order_reports_the_register_gate_and_dvc_skips_what_is_cached(fake):
    root = str(fake.root)
    state = pipeline(root=root, retry_delay_seconds=0, return_state=True)
    assert state.is_completed(), state.message
    result = state.result()
    assert result["stages"] == ["prepare", "train", "evaluate", "register"]
    assert fake.calls() == result["stages"]
    assert result["metrics"]["metrics/eval.json"]["grpo"]["f1"] == pytest.approx(0.96)
    assert result["mlflow_run"]["run_id"] == "fake-run"

    # the register stage gated its new version (no champion yet); the flow reported that, and gated nothing
    promotion = result["promotion"]
    assert (promotion["action"], promotion["name"], promotion["reason"]) == (
        "gate",
        "fake-model",
        "register stage",
    )
    assert (promotion["from_version"], promotion["to_version"], promotion["changed"]) == (None, "1", True)
    assert promotion["result"]["why"] == "no champion yet"
    assert [r.info.run_id for r in audit_runs("fake-model")] == [promotion["mlflow_run_id"]]
    report = json.loads((fake.root / "reports" / "registry.json").read_text())
    assert report["aliases"] == {"champion": "1", "challenger": "1"}
    assert report["promotion"]["mlflow_run_id"] == promotion["mlflow_run_id"]

    keys = ["medvie-metrics", "medvie-mlflow-run", "medvie-mlflow-run-info", "medvie-registry"]
    made = artifacts_of(state.state_details.flow_run_id)
    assert set(keys) <= set(made)
    assert "| grpo | 0.96 | 0.5 |" in made["medvie-metrics"]
    assert "/runs/fake-run)" in made["medvie-mlflow-run"]
    assert "register stage" in made["medvie-registry"]

    # without promotion the register stage is not run at all
    assert "register" not in pipeline(root=root, retry_delay_seconds=0, promote=False)["stages"]

    # nothing changed: the nightly retrain is a no-op
    assert retrain(root=root) == {"ran": False, "changed": {}}
    assert len(fake.calls()) == 4

    # new labelled data in the source folder: retrain runs the pipeline
    with (fake.root / "source" / "labels.jsonl").open("a") as fh:
        fh.write('{"id": "r2"}\n')
    again = retrain(root=root)
    assert again["ran"] is True and "prepare" in again["changed"]
    assert (fake.root / "prepared.txt").read_text() == "2"
    assert fake.calls()[4:] == ["prepare", "train"]  # evaluate, register: inputs unchanged, skipped
    assert again["result"]["promotion"] is None  # the register stage did not run: no new decision
    assert len(audit_runs("fake-model")) == 1


def test_failing_stage_fails_the_flow_with_its_own_line_and_is_not_retried(fake):
    fake.set_fail("hard")
    state = pipeline(root=str(fake.root), retries=2, retry_delay_seconds=0, promote=False, return_state=True)
    assert state.is_failed()
    assert "stage 'train' failed: error: fake.yaml 'fail' is hard; set it to none" in state.message
    assert "ERROR:" not in state.message
    assert fake.calls() == ["prepare", "train"]  # no retry, nothing after the failure


def test_transient_failure_is_retried(fake):
    fake.set_fail("flaky")
    state = pipeline(
        root=str(fake.root), until="prepare", retries=1, retry_delay_seconds=0, return_state=True
    )
    assert state.is_completed(), state.message
    assert state.result()["stages"] == ["prepare"]
    assert fake.calls() == ["prepare", "prepare"]


def test_stage_selection_follows_the_dag_and_names_unknown_stages():
    order = ["prepare", "train", "evaluate", "register"]
    assert select_stages(order, ["evaluate", "prepare"], None) == ["prepare", "evaluate"]
    assert select_stages(order, None, "train") == ["prepare", "train"]
    with pytest.raises(MedvieError, match="dvc.yaml has no stage 'trian'"):
        select_stages(order, None, "trian")
