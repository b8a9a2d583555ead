"""Registry: gated promotion, history and rollback; the pyfunc model (load + predict); serving over HTTP."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")

from medvie.errors import MedvieError  # noqa: E402
from medvie.registry.promotion import (  # noqa: E402
    HISTORY_TAG,
    gate_and_promote,
    history,
    list_versions,
    promote,
    registry_client,
    rollback,
)

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "medical.json"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """One temporary MLflow database per module: creating its tables takes seconds."""
    tmp = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    registry_client(uri).create_experiment("medvie", artifact_location=(tmp / "mlruns").as_uri())
    return uri


@pytest.fixture()
def client(db, request):
    c = registry_client(db)
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
    assert client.get_model_version_by_alias("m", "champion").version == int(v2)
    assert client.get_model_version_by_alias("m", "challenger").version == int(v3)

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
    assert client.get_model_version_by_alias("m", "champion").version == int(v1)
    rows = list_versions("m", client=client)
    assert [r["version"] for r in rows] == [v2, v1] and "champion" in rows[1]["aliases"]

    with pytest.raises(MedvieError, match="no version 99"):
        promote("m", "champion", "99", "typo", client=client)
    with pytest.raises(MedvieError, match="no earlier champion"):
        rollback("m", "again", client=client)


# ---------------------------------------------------------------- pyfunc + serving (real tiny model)


@pytest.fixture(scope="module")
def registered(tmp_path_factory, db):
    """A tiny Qwen2.5-VL behind a pointer + LoRA-free layout, registered in a temporary MLflow."""
    from medvie.modeling import build_tiny, save_tiny
    from medvie.registry.register import register_model

    tmp = tmp_path_factory.mktemp("registry")
    model, processor = build_tiny()
    save_tiny(model, processor, tmp / "base")
    (tmp / "grpo").mkdir()
    (tmp / "grpo" / "medvie_model.json").write_text(json.dumps({"base": "../base", "adapter": None}))
    uri = db
    info = register_model(
        tmp / "grpo",
        name="medvie",
        schema_path=SCHEMA,
        settings={"thinking": True, "max_new_tokens": 8, "batch_size": 2},
        tags={"test_set_hash": "h", "metrics.f1": "0.1"},
        tracking_uri=uri,
    )
    return {"uri": uri, "tmp": tmp, **info}


def _png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (56, 56), "white").save(buf, format="PNG")
    return buf.getvalue()


def test_pyfunc_loads_and_predicts_with_a_bad_image_in_the_batch(registered, tmp_path):
    mlflow.set_tracking_uri(registered["uri"])
    mlflow.set_registry_uri(registered["uri"])
    version = registry_client(registered["uri"]).get_model_version("medvie", registered["version"])
    assert version.tags["test_set_hash"] == "h" and version.aliases == ["challenger"]

    model = mlflow.pyfunc.load_model("models:/medvie@challenger")
    png = _png_bytes()
    (tmp_path / "a.png").write_bytes(png)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    out = model.predict(
        [
            {"image": str(tmp_path / "a.png"), "keys": ["Name", "Age"]},
            {"image": str(tmp_path / "bad.png")},
            {"image": base64.b64encode(png).decode()},
            {"image": png, "keys": "Name,Indicators"},
            {"image": str(tmp_path / "a.png"), "keys": ["NoSuchKey"]},
        ]
    )
    assert len(out) == 5
    assert out[1]["ok"] is False and "not a readable image" in out[1]["error"]
    assert out[4]["ok"] is False and "NoSuchKey" in out[4]["error"]
    for res in (out[0], out[2], out[3]):  # a random tiny model rarely writes JSON, but it did generate
        assert isinstance(res["raw"], str) and (res["ok"] or "no JSON" in res["error"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mlflow_models_serve_round_trip(registered):
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)  # the server execs `uvicorn` from PATH: the venv's one
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": registered["uri"],
        "MLFLOW_REGISTRY_URI": registered["uri"],
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    mlflow_bin = str(Path(bin_dir) / "mlflow")
    proc = subprocess.Popen(
        [
            mlflow_bin,
            "models",
            "serve",
            "-m",
            "models:/medvie@challenger",
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"server did not come up: {proc.stderr.read().decode(errors='replace')[-2000:] if proc.poll() is not None else 'timeout'}"
                )
            time.sleep(0.5)
        body = json.dumps(
            {
                "dataframe_records": [
                    {"image": base64.b64encode(_png_bytes()).decode(), "keys": "Name"},
                    {"image": "definitely-missing.png"},
                ]
            }
        ).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            preds = json.loads(r.read())["predictions"]
        assert len(preds) == 2
        assert isinstance(preds[0]["raw"], str)
        assert preds[1]["ok"] is False and "not found" in preds[1]["error"]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group: uvicorn and its worker
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
