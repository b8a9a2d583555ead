"""A throw-away DVC project with trivial stages, a temporary Prefect API and a real MLflow store.

The fake project's stages are tiny Python commands (`step.py <stage>`) listed in dvc.yaml out
of DAG order; `fake.yaml: fail` makes `train` fail for good (`hard`) or `prepare` once (`flaky`).
Every command appends `<stage> alpha=<value>` to $FAKE_LOG, so tests see what really ran.
Its params.yaml is a valid medvie params file (flows parse it with `medvie.settings`), and its
`register` stage registers a version (no model files) and gates it with the register stage's own
library call, in a per-test SQLite MLflow store.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

# Prefect reads its settings once, at import: keep its home out of the project and the user's home.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="medvie-prefect-home-"))

STEP = textwrap.dedent("""
    import json, os, pathlib, sys, yaml
    p = {**yaml.safe_load(open("params.yaml")), **yaml.safe_load(open("fake.yaml"))}
    stage, alpha = sys.argv[1], p["reward"]["alpha"]
    with open(os.environ["FAKE_LOG"], "a") as fh:
        fh.write(f"{stage} alpha={alpha}\\n")
    marker = pathlib.Path(os.environ["FAKE_LOG"] + ".flaky")
    if stage == "prepare" and p["fail"] == "flaky" and not marker.exists():
        marker.write_text("1")
        sys.exit("sqlite3.OperationalError: database is locked")
    if stage == "train" and p["fail"] == "hard":
        print("loading the model ...", file=sys.stderr)
        sys.exit("error: fake.yaml 'fail' is hard; set it to none")
    if stage == "prepare":
        n = len(open("source/labels.jsonl").read().splitlines())
        pathlib.Path("prepared.txt").write_text(str(n))
    elif stage == "train":
        pathlib.Path("models/grpo").mkdir(parents=True, exist_ok=True)
        run = {"run_id": "fake-run", "experiment_id": "0", "tracking_uri": "sqlite:///fake.db"}
        parent = os.environ.get("MEDVIE_MLFLOW_PARENT_RUN_ID")
        if parent:  # what the real training stage does with the sweep's parent run
            from mlflow import MlflowClient
            c = MlflowClient()
            r = c.create_run(os.environ["MEDVIE_MLFLOW_EXPERIMENT_ID"],
                             run_name=os.environ.get("MEDVIE_MLFLOW_RUN_NAME"),
                             tags={"mlflow.parentRunId": parent})
            c.set_terminated(r.info.run_id)
            run = {"run_id": r.info.run_id, "experiment_id": r.info.experiment_id,
                   "tracking_uri": os.environ["MLFLOW_TRACKING_URI"]}
        json.dump(run, open("models/grpo/mlflow_run.json", "w"))
    elif stage == "evaluate":
        os.makedirs("metrics", exist_ok=True)
        f1 = round(1 - (alpha - 0.7) ** 2, 4)
        json.dump({"grpo": {"f1": f1, "precision": 0.5}, "base": {"f1": 0.1, "precision": 0.2}},
                  open("metrics/eval.json", "w"))
    elif stage == "register":
        from medvie.registry.pipeline import gate_and_report
        from medvie.registry.promotion import CHALLENGER, promote, registry_client
        from medvie.settings import load_params
        cfg = load_params("params.yaml").register_
        client = registry_client()
        if not client.search_registered_models(f"name = '{cfg.name}'"):
            client.create_registered_model(cfg.name)
        f1 = json.load(open("metrics/eval.json"))["grpo"]["f1"]
        v = client.create_model_version(cfg.name, source=pathlib.Path("models/grpo").resolve().as_uri(),
                                        tags={"metrics.f1": repr(f1), "test_set_hash": "fake"})
        promote(cfg.name, CHALLENGER, v.version, "new version", client=client)
        reg = {"version": str(v.version), "model_uri": f"models:/{cfg.name}/{v.version}", "run_id": None}
        gate_and_report(cfg, pathlib.Path("."), reg, test_set_hash="fake")
""")


def dvc_yaml(python: str) -> dict:
    cmd = f"{python} step.py"
    # deliberately not in DAG order: the flow must follow the DAG, not the file
    return {
        "stages": {
            "evaluate": {
                "cmd": f"{cmd} evaluate",
                "deps": ["models/grpo", "step.py"],
                "params": ["reward.alpha"],
                "metrics": [{"metrics/eval.json": {"cache": False}}],
            },
            "register": {
                "cmd": f"{cmd} register",
                "deps": ["metrics/eval.json"],
                "params": ["register"],
                "outs": [{"reports/registry.json": {"cache": False}}],
            },
            "prepare": {
                "cmd": f"{cmd} prepare",
                "deps": ["source", "step.py"],
                "params": [{"fake.yaml": ["fail"]}],
                "outs": ["prepared.txt"],
            },
            "train": {
                "cmd": f"{cmd} train",
                "deps": ["prepared.txt", "step.py"],
                "params": ["reward.alpha", {"fake.yaml": ["fail"]}],
                "outs": ["models/grpo"],
            },
        }
    }


GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def sh(cwd: Path, *cmd: str) -> str:
    out = subprocess.run(cmd, cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


@dataclass
class FakeProject:
    root: Path
    log: Path

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def calls(self) -> list[str]:
        """The stage commands that really ran, in order."""
        return [ln.split()[0] for ln in self.lines()]

    def set_fail(self, mode: str) -> None:
        (self.root / "fake.yaml").write_text(yaml.safe_dump({"fail": mode}))


@pytest.fixture(scope="session")
def fake_template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fake-template") / "project"
    (root / "source").mkdir(parents=True)
    (root / "source" / "labels.jsonl").write_text('{"id": "r1"}\n')
    (root / "step.py").write_text(STEP)
    (root / "params.yaml").write_text(
        yaml.safe_dump({"reward": {"alpha": 0.5}, "register": {"name": "fake-model"}})
    )
    (root / "fake.yaml").write_text(yaml.safe_dump({"fail": "none"}))
    (root / "dvc.yaml").write_text(yaml.safe_dump(dvc_yaml(sys.executable), sort_keys=False))
    sh(root, "git", "init", "-q")
    sh(root, sys.executable, "-m", "dvc", "init", "-q")
    sh(root, sys.executable, "-m", "dvc", "config", "core.analytics", "false")
    # metrics stay in git (cache: false): `dvc exp show` reads them from each experiment's commit
    (root / ".gitignore").write_text("/prepared.txt\n/models\n/mlruns\n")
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-qm", "fake project")
    return root


@pytest.fixture
def fake(fake_template, tmp_path, monkeypatch) -> FakeProject:
    """A fresh copy of the fake project (cwd), its own $FAKE_LOG."""
    root = tmp_path / "project"
    shutil.copytree(fake_template, root, symlinks=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "calls.log"))
    return FakeProject(root, tmp_path / "calls.log")


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory) -> Path:
    """An empty MLflow database, made once (creating its tables takes seconds)."""
    from medvie.registry.promotion import registry_client

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    registry_client(f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def mlflow_store(mlflow_template, tmp_path, monkeypatch) -> str:
    """A fresh MLflow tracking + registry store per test: a copy of the empty database in tmp_path (artifacts
    beside it), named by the MLflow variables every flow, stage and client reads."""
    store = tmp_path / "mlflow"
    store.mkdir()
    shutil.copy(mlflow_template, store / "mlflow.db")
    uri = f"sqlite:///{store / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    return uri


@pytest.fixture(scope="session")
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield
