"""The real-model path end to end, on a CPU: a checkpoint laid out like the public Qwen2.5-VL-7B-Instruct
release (real vocabulary and shapes, tiny widths, random weights) under a hub id in a local Hugging Face
cache, run through the stages a GPU user runs (model, warmstart (off), train: GRPO + LoRA for 2 steps,
evaluate, register) by params alone: the project's params.yaml, the `single-gpu-lora` preset over it, and a
CPU overlay that changes only where the run happens and how long it is. The registered version is then
asked through `medvie extract` and `mlflow models serve`, and answers as the evaluate stage did.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from registry_helpers import ModelServer, write_source  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HUB_ID = "medvie-test/Qwen2.5-VL-7B-Instruct"
NAME = "medvie-real-shapes"
REPORTS = [(21, "cbc"), (22, "biochemistry")]
# what a CPU run changes of the preset: the device, dtype and length of the run, nothing of the recipe
CPU_GRPO = {
    "use_cpu": True,
    "bf16": False,
    "num_generations": 4,  # the preset samples 8; 4 keeps this CPU run small and still a group
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 1,
    "max_steps": 2,
    "max_completion_length": 8,
    "save_steps": 1,
}
CPU_OVERLAY = {
    "data": {"source": "source", "split": {"train": 0.0, "val": 0.0, "test": 1.0}},
    "model": {"name_or_path": HUB_ID, "dtype": "float32", "max_pixels": 50176},
    "queries": {"val_max": 0, "test_max": 10, "per_record": 4},
    "evaluate": {
        "device": "cpu",
        "dtype": "auto",
        "batch_size": 2,
        "max_new_tokens": 8,
        "models": ["grpo"],
        "baselines": [],
    },
    "register": {"name": NAME},
}


@pytest.fixture(scope="module")
def hf_cache(tmp_path_factory):
    """The release-shaped checkpoint, only reachable as HUB_ID through an offline cache (this process and
    the servers it starts)."""
    from huggingface_hub import constants

    from medvie.modeling.real_shapes import install_in_hub_cache, write_real_shapes

    tmp = tmp_path_factory.mktemp("hf")
    release = write_real_shapes(tmp / "release" / "Qwen2.5-VL-7B-Instruct")
    install_in_hub_cache(release, HUB_ID, tmp / "hub")
    import shutil

    shutil.rmtree(release)  # only the cache holds it now
    env = {"HF_HOME": str(tmp), "HF_HUB_CACHE": str(tmp / "hub"), "HF_HUB_OFFLINE": "1"}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.setattr(constants, "HF_HUB_CACHE", env["HF_HUB_CACHE"])
        mp.setattr(constants, "HF_HUB_OFFLINE", True)
        yield env


@pytest.fixture(scope="module")
def project(tmp_path_factory, store, hf_cache):
    from medvie.config_base import load_yaml
    from medvie.io import read_json, read_jsonl, write_jsonl
    from medvie.settings import load_params
    from medvie.training.launch import LAUNCHED
    from medvie.training.presets import merge
    from stages import evaluate, ingest, model, queries, register, train, warmstart

    root = tmp_path_factory.mktemp("project")
    write_source(root, REPORTS)
    preset = load_yaml((REPO / "configs" / "presets" / "single-gpu-lora.yaml").read_text())
    raw = merge(load_yaml((REPO / "params.yaml").read_text()), preset)
    overlay = {**CPU_OVERLAY, "train": {"grpo": {**preset["train"]["grpo"], **CPU_GRPO}}}
    raw = merge(raw, overlay)
    raw["queries"]["schema"] = str(REPO / "schemas" / "medical.json")
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    params = load_params(root / "params.yaml")

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDVIE_MLFLOW_STORE_ROOT", str(Path(store.removeprefix("sqlite:///")).parent))
        mp.setenv("MEDVIE_ROOT", str(root))
        # train here, as the one process of a launch: the preset's single-GPU launch is not for a CPU, and
        # relaunching (tests/training/test_launch.py) would replace the test process
        mp.setenv(LAUNCHED, "1")
        ingest.main(params, root)
        write_jsonl(root / "data" / "selected.jsonl", [{"id": "r0"}])  # the sample stage's output
        queries.main(params, root)
        model.main(params, root)
        warmstart.main(params, root)  # off in the preset: a pointer to the base
        train.main(params, root)
        evaluate.main(params, root)
        register.main(params, root)
    records = read_jsonl(root / "data" / "ingested" / "records.jsonl")
    return {
        "root": root,
        "params": params,
        "answers": {
            p["id"]: p["prediction"] for p in read_jsonl(root / "reports" / "predictions" / "grpo.jsonl")
        },
        "rows": read_jsonl(root / "data" / "queries" / "test.jsonl"),
        "sources": {r["id"]: str(root / "source" / r["source_image"]) for r in records},
        "registered": read_json(root / "reports" / "registry.json"),
        "uri": f"models:/{NAME}@champion",
    }


def test_the_preset_run_trains_a_lora_on_the_hub_model_and_registers_adapter_plus_pinned_base(project, store):
    from medvie.io import read_json
    from medvie.registry.promotion import registry_client

    root, params = project["root"], project["params"]
    assert params.train.lora.enabled and params.model.name_or_path == HUB_ID  # the preset's recipe, by params
    assert read_json(root / "models" / "base" / "medvie_model.json")["base"] == HUB_ID
    assert all(isinstance(a, str) and a for a in project["answers"].values())  # it generated, greedily
    summary = read_json(root / "models" / "grpo" / "train_summary.json")
    assert summary["global_step"] == 2 and summary["lora"]
    reg = project["registered"]
    assert reg["aliases"]["champion"] == reg["version"]
    tags = registry_client(store).get_model_version(NAME, reg["version"]).tags
    assert tags["model.bundle"] == "adapter + pinned base" and tags["model.base"] == HUB_ID
    assert len(json.loads(tags["model.pin"])["revision"]) == 40
    import mlflow

    local = Path(mlflow.artifacts.download_artifacts(f"models:/{NAME}/{reg['version']}"))
    assert not (local / "artifacts" / "model" / "base").exists()  # the 7B's weights are not copied
    reqs = (local / "requirements.txt").read_text().split()
    assert "medvie" not in {r.split("==")[0] for r in reqs} and (local / "code" / "medvie").is_dir()


def _request(project, row) -> dict:
    fields = json.loads(row["row_fields"])
    return {
        "image": project["sources"][row["record_id"]],
        "keys": {k: fields.get(k) for k in row["canonical_keys"]},
    }


def test_medvie_extract_answers_as_the_evaluate_stage(project, store, hf_cache):
    row = next(r for r in project["rows"] if r["strategy"] == "all")
    env = {**os.environ, **hf_cache, "MLFLOW_TRACKING_URI": store, "MLFLOW_REGISTRY_URI": store}
    medvie = str(Path(sys.executable).parent / "medvie")
    image = project["sources"][row["record_id"]]
    res = subprocess.run(
        [medvie, "extract", image, "--model", project["uri"], "--raw"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode in (0, 1), res.stderr[-2000:]  # 1: no JSON in the answer (random weights)
    assert json.loads(res.stdout.splitlines()[0])["raw"] == project["answers"][row["id"]]


def test_mlflow_models_serve_answers_as_the_evaluate_stage(project, store, hf_cache):
    row = next(r for r in project["rows"] if r["strategy"] == "subset")
    req = _request(project, row)
    image = base64.b64encode(Path(req["image"]).read_bytes()).decode()
    with ModelServer(project["uri"], store, env=hf_cache) as server:
        preds = server.invoke([{"image": image, "keys": json.dumps(req["keys"])}])
    assert preds[0]["raw"] == project["answers"][row["id"]]
