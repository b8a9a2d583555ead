"""train.resume auto: an unfinished training is resumed, a finished one starts over in a new MLflow run."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from medvie.training.train import STATE_FILE, _prepare_work_dir


def _work(tmp_path: Path, state: dict, step: int = 3, max_steps: int = 3) -> Path:
    ckpt = tmp_path / "checkpoints" / f"checkpoint-{step}"
    ckpt.mkdir(parents=True)
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": step, "max_steps": max_steps}))
    (tmp_path / STATE_FILE).write_text(json.dumps(state))
    return ckpt


def test_unfinished_run_resumes(tmp_path):
    ckpt = _work(tmp_path, {"fingerprint": "aaa", "mlflow_run_id": "r1", "finished": False})
    assert _prepare_work_dir(tmp_path, "aaa", "auto") == (str(ckpt), "r1")


def test_finished_run_starts_over(tmp_path):
    _work(tmp_path, {"fingerprint": "aaa", "mlflow_run_id": "r1", "finished": True, "global_step": 3})
    assert _prepare_work_dir(tmp_path, "aaa", "auto") == (None, None)
    assert not (tmp_path / "checkpoints").exists()


@pytest.mark.parametrize(("step", "resumed"), [(3, False), (2, True)])
def test_state_without_finished_flag_is_judged_by_the_checkpoint(tmp_path, step, resumed):
    """Run states written before the flag existed: a checkpoint at max_steps is a finished training."""
    ckpt = _work(tmp_path, {"fingerprint": "aaa", "mlflow_run_id": "r1"}, step=step, max_steps=3)
    expected = (str(ckpt), "r1") if resumed else (None, None)
    assert _prepare_work_dir(tmp_path, "aaa", "auto") == expected


def _fake_fit(sig: inspect.Signature, calls: list, interrupt: bool | BaseException = False):
    """Stands in for `_fit` (signature `sig`): records resume_from, leaves a checkpoint as Trainer does."""

    def fit(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        resume_from = bound.arguments["resume_from"]
        calls.append(resume_from)
        ckpt = Path(bound.arguments["args"].output_dir) / "checkpoint-2"
        ckpt.mkdir(parents=True, exist_ok=True)
        (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": 2, "max_steps": 2}))
        if interrupt:
            raise interrupt if isinstance(interrupt, BaseException) else KeyboardInterrupt
        out = Path(bound.arguments["out_dir"])
        out.mkdir(parents=True, exist_ok=True)
        return {"global_step": 2, "resumed_from_step": 2 if resume_from else 0, "lora": True}

    return fit


def test_forced_rerun_of_a_finished_training_opens_a_new_run(project, small_grpo, monkeypatch):
    from mlflow import MlflowClient

    from medvie.settings import parse_params
    from medvie.training import train as train_mod

    params = parse_params({"train": {"grpo": {**small_grpo, "max_steps": 2}}})
    state_path = project / params.train.work_dir / STATE_FILE
    calls: list = []
    sig = inspect.signature(train_mod._fit)

    # killed mid-way: the next run resumes its checkpoint, in the same MLflow run
    monkeypatch.setattr(train_mod, "_fit", _fake_fit(sig, calls, interrupt=True))
    with pytest.raises(KeyboardInterrupt):
        train_mod.train_grpo(params, project)
    killed = json.loads(state_path.read_text())
    assert killed["finished"] is False

    monkeypatch.setattr(train_mod, "_fit", _fake_fit(sig, calls))
    first = train_mod.train_grpo(params, project)
    assert calls[-1] is not None and Path(calls[-1]).name == "checkpoint-2"
    assert first["run_id"] == killed["mlflow_run_id"]
    state = json.loads(state_path.read_text())
    assert state["finished"] is True and state["global_step"] == 2

    # `dvc repro -f train` with nothing changed: a new training in a new MLflow run
    second = train_mod.train_grpo(params, project)
    assert calls[-1] is None
    assert second["run_id"] != first["run_id"]
    client = MlflowClient(second["tracking_uri"])
    assert client.get_run(first["run_id"]).info.status == "FINISHED"
    assert "resumed_from" not in client.get_run(second["run_id"]).data.tags
    assert json.loads(state_path.read_text())["mlflow_run_id"] == second["run_id"]


def test_tracking_server_gone_mid_training_keeps_the_checkpoint_and_the_run(project, small_grpo, monkeypatch):
    """The server stops answering during training: the stage fails in one line without calling it again,
    the checkpoint stays, and the re-run (server back) resumes it into the same MLflow run."""
    from mlflow import MlflowClient

    from medvie.settings import parse_params
    from medvie.training import train as train_mod
    from medvie.training.tracking import TrackingServerDown

    params = parse_params({"train": {"grpo": {**small_grpo, "max_steps": 2}}})
    calls: list = []
    sig = inspect.signature(train_mod._fit)
    down = TrackingServerDown("MLflow tracking server http://127.0.0.1:5050 stopped answering at step 2")
    monkeypatch.setattr(train_mod, "_fit", _fake_fit(sig, calls, interrupt=down))

    def dead(self, *args, **kwargs):
        raise AssertionError("the stage must not call a tracking server that stopped answering")

    with monkeypatch.context() as mp:
        mp.setattr(MlflowClient, "set_terminated", dead)
        with pytest.raises(TrackingServerDown, match="stopped answering"):
            train_mod.train_grpo(params, project)
    state = json.loads((project / params.train.work_dir / STATE_FILE).read_text())
    assert state["finished"] is False
    assert (project / params.train.work_dir / "checkpoints" / "checkpoint-2").is_dir()

    monkeypatch.setattr(train_mod, "_fit", _fake_fit(sig, calls))
    again = train_mod.train_grpo(params, project)
    assert Path(calls[-1]).name == "checkpoint-2" and again["run_id"] == state["mlflow_run_id"]
    assert MlflowClient(again["tracking_uri"]).get_run(again["run_id"]).info.status == "FINISHED"
