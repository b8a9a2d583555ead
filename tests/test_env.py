"""Environment defaults and the MLflow store location."""

import os

from medvie.env import apply_defaults, mlflow_uris


def test_store_is_the_project_root_unless_an_experiment_pins_it(tmp_path, monkeypatch):
    monkeypatch.delenv("MEDVIE_MLFLOW_STORE_ROOT", raising=False)
    tracking, artifacts = mlflow_uris(tmp_path / "copy")
    assert tracking == f"sqlite:///{tmp_path / 'copy' / 'mlflow.db'}"
    assert artifacts == (tmp_path / "copy" / "mlruns").as_uri()
    monkeypatch.setenv("MEDVIE_MLFLOW_STORE_ROOT", str(tmp_path / "project"))
    assert mlflow_uris(tmp_path / "copy")[0] == f"sqlite:///{tmp_path / 'project' / 'mlflow.db'}"


def test_defaults_never_override_what_the_user_set(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    set_now = apply_defaults(tmp_path, threads=1)
    assert os.environ["OMP_NUM_THREADS"] == "2" and "OMP_NUM_THREADS" not in set_now
    assert os.environ["HF_HUB_OFFLINE"] == "1"
