"""A tracking server that stops answering mid-training: checkpoint, stop, one line naming the server."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from mlflow.exceptions import MlflowException, RestException

from medvie.errors import MedvieError
from medvie.training.tracking import (
    TrackingServerDown,
    mlflow_callback,
    open_run,
    server_unreachable,
)

URI = "http://127.0.0.1:5050"


class DeadClient:
    tracking_uri = URI

    def __init__(self):
        self.batches = 0

    def log_batch(self, run_id, metrics=()):
        self.batches += 1
        raise MlflowException(
            f"API request to {URI}/api/2.0/mlflow/runs/log-batch failed with exception "
            "HTTPConnectionPool: Max retries exceeded (Connection refused)"
        )


def _control():
    return SimpleNamespace(should_save=False, should_training_stop=False)


def test_unreachable_server_checkpoints_stops_and_fails_in_one_line():
    client = DeadClient()
    cb = mlflow_callback(client, "run-1")
    args = SimpleNamespace(output_dir="build/train/checkpoints")
    state = SimpleNamespace(is_world_process_zero=True, global_step=3)
    control = _control()
    cb.on_log(args, state, control, logs={"reward": 0.5})
    assert control.should_save and control.should_training_stop
    cb.on_log(args, state, control, logs={"reward": 0.6})  # no second wait through the retries
    assert client.batches == 1
    with pytest.raises(TrackingServerDown) as err:
        cb.on_train_end(args, state, control)
    msg = str(err.value)
    assert isinstance(err.value, MedvieError) and "\n" not in msg
    assert URI in msg and "step 3" in msg and "build/train/checkpoints" in msg and "run-1" in msg


def test_refused_request_is_not_a_dead_server():
    class Refusing(DeadClient):
        def log_batch(self, run_id, metrics=()):
            raise RestException({"error_code": "INVALID_PARAMETER_VALUE", "message": "bad metric"})

    cb = mlflow_callback(Refusing(), "run-1")
    state = SimpleNamespace(is_world_process_zero=True, global_step=1)
    with pytest.raises(RestException):
        cb.on_log(SimpleNamespace(output_dir="x"), state, _control(), logs={"reward": 1.0})


def test_server_unreachable_classification():
    assert server_unreachable(MlflowException("failed with exception: Max retries exceeded"))
    assert server_unreachable(RestException({"error_code": "INTERNAL_ERROR", "message": "db gone"}))
    assert not server_unreachable(RestException({"error_code": "PERMISSION_DENIED", "message": "no"}))
    assert not server_unreachable(ValueError("bug"))


def test_open_run_against_a_dead_server_is_one_line(monkeypatch):
    monkeypatch.delenv("MEDVIE_MLFLOW_PARENT_RUN_ID", raising=False)

    class Dead:
        tracking_uri = URI

        def get_experiment_by_name(self, name):
            raise MlflowException("failed with exception: Max retries exceeded (Connection refused)")

    with pytest.raises(TrackingServerDown, match="127.0.0.1:5050 is not answering"):
        open_run(Dead(), None, "file:///tmp/mlruns", "grpo-test")
