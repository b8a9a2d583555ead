"""A few GRPO + LoRA steps on a random tiny Qwen2.5-VL: outputs, MLflow run, curves, resume."""

from __future__ import annotations

import csv
import json

import pytest

from medvie.settings import parse_params


@pytest.fixture
def make_params(grpo_recipe):
    def make(**grpo):
        # params.yaml's recipe with 8-token completions and 4 completions a step: the random model
        # never stops early, so steps stay short
        short = {"max_completion_length": 8, "save_steps": 1, "per_device_train_batch_size": 4}
        return parse_params({"train": {"grpo": {**grpo_recipe, **short, **grpo}}})

    return make


@pytest.fixture
def run(project, make_params):
    from medvie.training.train import train_grpo

    return lambda **grpo: train_grpo(make_params(**grpo), project)


def test_grpo_lora_run_writes_adapter_mlflow_and_curves(project, run, make_params):
    from mlflow import MlflowClient

    summary = run(max_steps=2)
    out = project / "models" / "grpo"
    assert (out / "adapter" / "adapter_config.json").exists()
    assert (out / "adapter" / "adapter_model.safetensors").exists()
    assert json.loads((out / "medvie_model.json").read_text()) == {
        "base": "../warmstart",
        "adapter": "adapter",
    }
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == 2

    run_info = json.loads((out / "mlflow_run.json").read_text())
    assert set(run_info) == {"run_id", "experiment_id", "tracking_uri"}
    client = MlflowClient(run_info["tracking_uri"])
    run = client.get_run(run_info["run_id"])
    assert run.info.status == "FINISHED"
    logged = run.data.params
    assert logged["reward.funcs"] and "reward.alpha" in logged
    assert logged["train.grpo.num_generations"] == "4" and logged["train.lora.r"] == "16"
    assert any(k.startswith("queries.") for k in logged) and any(k.startswith("model.") for k in logged)
    assert "data.queries.train.sha256" in logged
    # TRL's own logging is off: no bare GRPOConfig names
    assert "learning_rate" not in logged and "num_generations" not in logged
    assert [m.step for m in client.get_metric_history(run.info.run_id, "reward")] == [1, 2]
    from medvie.rewards.registry import build_reward_funcs

    names = [f.__name__ for f in build_reward_funcs(make_params().reward)[0]]
    for name in names:  # each reward part, per step
        assert len(client.get_metric_history(run.info.run_id, f"rewards/{name}/mean")) == 2
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"adapter", "model", "plots"} <= artifacts

    with (project / "plots" / "train" / "reward.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["step"] for r in rows] == ["1", "2"] and all(name in rows[0] for name in names)
    for name in ("completion_length.csv", "kl.csv", "clip_ratio.csv", "loss.csv"):
        assert (project / "plots" / "train" / name).read_text().startswith("step,")
    assert summary["step_time_mean_s"] > 0 and summary["peak_rss_mib"] > 0


def test_interrupted_training_resumes_from_last_checkpoint(project, run):
    first = run(max_steps=2)
    ckpts = project / "build" / "train" / "checkpoints"
    assert (ckpts / "checkpoint-2").is_dir()
    # as after a kill before the model was published: the stage's output is gone (DVC removes it),
    # the work dir stays and its state says the run did not finish
    import shutil

    shutil.rmtree(project / "models" / "grpo")
    state_file = project / "build" / "train" / "run_state.json"
    state_file.write_text(json.dumps({**json.loads(state_file.read_text()), "finished": False}))
    second = run(max_steps=4)
    assert second["resumed_from_step"] == 2 and second["global_step"] == 4
    state = json.loads((project / "models" / "grpo" / "trainer_state.json").read_text())
    assert [h["step"] for h in state["log_history"] if "reward" in h] == [1, 2, 3, 4]
    assert second["run_id"] == first["run_id"]  # one MLflow run for one training
    from mlflow import MlflowClient

    client = MlflowClient(second["tracking_uri"])
    assert [m.step for m in client.get_metric_history(second["run_id"], "reward")] == [1, 2, 3, 4]
    assert client.get_run(second["run_id"]).data.tags["resumed.train.grpo.max_steps"] == "4"


def test_changed_config_starts_over(tmp_path):
    from medvie.training.train import STATE_FILE, _prepare_work_dir

    ckpt = tmp_path / "checkpoints" / "checkpoint-3"
    ckpt.mkdir(parents=True)
    (ckpt / "trainer_state.json").write_text("{}")
    (tmp_path / STATE_FILE).write_text(json.dumps({"fingerprint": "aaa", "mlflow_run_id": "r1"}))
    assert _prepare_work_dir(tmp_path, "aaa", "auto") == (str(ckpt), "r1")
    assert _prepare_work_dir(tmp_path, "bbb", "auto") == (None, None)
    assert not (tmp_path / "checkpoints").exists()


@pytest.mark.parametrize("resume", ["never"])
def test_resume_never_discards_checkpoints(tmp_path, resume):
    from medvie.training.train import STATE_FILE, _prepare_work_dir

    (tmp_path / "checkpoints" / "checkpoint-1").mkdir(parents=True)
    (tmp_path / STATE_FILE).write_text(json.dumps({"fingerprint": "aaa"}))
    assert _prepare_work_dir(tmp_path, "aaa", resume) == (None, None)


def test_full_fine_tuning_writes_a_checkpoint(project, grpo_recipe):
    from medvie.training.train import train_grpo

    params = parse_params(
        {
            "train": {
                "lora": {"enabled": False},
                "grpo": {
                    **grpo_recipe,
                    "max_steps": 1,
                    "max_completion_length": 4,
                    "per_device_train_batch_size": 4,
                },
            }
        }
    )
    train_grpo(params, project)
    out = project / "models" / "grpo"
    assert (out / "config.json").exists() and (out / "model.safetensors").exists()
    assert not (out / "medvie_model.json").exists()
