"""What a registered LoRA version holds (`register.copy_base`, `register.merge`) and what it needs to be
served: a pinned base reference instead of a 16 GB copy, a merge on request, medvie's code and real
requirements instead of a `medvie` that no package index has."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medvie.errors import MedvieError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lora_model(tmp_path_factory) -> Path:
    """`<tmp>/base` (a tiny checkpoint) and `<tmp>/project/models/grpo` (pointer + a LoRA adapter that
    changes the answers), as the train stage leaves a LoRA model."""
    import torch
    from peft import LoraConfig, get_peft_model

    from medvie.modeling.tiny import TinySpec, build_tiny, save_tiny

    tmp = tmp_path_factory.mktemp("lora")
    model, processor = build_tiny(spec=TinySpec.smallest())
    base = save_tiny(model, processor, tmp / "base")
    torch.manual_seed(1)
    peft = get_peft_model(
        model, LoraConfig(r=4, target_modules=r".*language_model.*\.(q_proj|v_proj)", init_lora_weights=False)
    )
    out = tmp / "project" / "models" / "grpo"
    peft.save_pretrained(out / "adapter")
    (out / "medvie_model.json").write_text(
        json.dumps({"base": os.path.relpath(base, out), "adapter": "adapter"})
    )
    return out


def _logits(model_dir: Path):
    import torch

    from medvie.modeling import load

    model, _ = load(str(model_dir))
    with torch.no_grad():
        return model(input_ids=torch.tensor([[5, 6, 7, 8]])).logits


def test_a_base_outside_the_project_is_pinned_not_copied_and_loads_back(lora_model, tmp_path):
    from medvie.registry.bundle import bundle_model

    how = bundle_model(lora_model, tmp_path / "v1", root=lora_model.parents[1])
    ptr = json.loads((tmp_path / "v1" / "medvie_model.json").read_text())
    assert how["bundle"] == "adapter + pinned base" and not (tmp_path / "v1" / "base").exists()
    assert ptr["base"] == str((lora_model / "../../../base").resolve()) and len(ptr["fingerprint"]) == 32
    assert (_logits(tmp_path / "v1") == _logits(lora_model)).all()


def test_a_changed_or_missing_base_fails_in_one_line_naming_it(lora_model, tmp_path):
    import shutil

    from medvie.modeling import load
    from medvie.registry.bundle import bundle_model

    base = tmp_path / "own-base"
    shutil.copytree(lora_model / json.loads((lora_model / "medvie_model.json").read_text())["base"], base)
    model_dir = tmp_path / "project" / "grpo"
    shutil.copytree(lora_model / "adapter", model_dir / "adapter")
    (model_dir / "medvie_model.json").write_text(json.dumps({"base": str(base), "adapter": "adapter"}))
    bundle_model(model_dir, tmp_path / "v", root=tmp_path / "project")

    (base / "config.json").write_text((base / "config.json").read_text().replace("{", '{"note": 1,', 1))
    with pytest.raises(MedvieError, match=r"own-base changed since this model was registered") as err:
        load(str(tmp_path / "v"))
    assert "\n" not in str(err.value) and "register.copy_base: true" in str(err.value)
    shutil.rmtree(base)
    with pytest.raises(MedvieError, match=r"own-base is gone"):
        load(str(tmp_path / "v"))


def test_auto_copies_a_base_inside_the_project_and_true_always_copies(lora_model, tmp_path):
    from medvie.registry.bundle import bundle_model

    # the embedded model's case: the base is a DVC output of the project that the next run replaces
    how = bundle_model(lora_model, tmp_path / "inside", root=lora_model.parents[2])
    assert how["bundle"] == "adapter + base copy" and (tmp_path / "inside" / "base" / "config.json").exists()
    how = bundle_model(lora_model, tmp_path / "forced", root=lora_model.parents[1], copy_base=True)
    assert json.loads((tmp_path / "forced" / "medvie_model.json").read_text())["base"] == "base"
    assert (_logits(tmp_path / "forced") == _logits(lora_model)).all()


def test_a_hub_base_is_pinned_by_its_snapshot_revision(lora_model, tmp_path, monkeypatch):
    import shutil

    from huggingface_hub import constants

    from medvie.modeling import load
    from medvie.modeling.real_shapes import install_in_hub_cache
    from medvie.registry.bundle import bundle_model

    cache = tmp_path / "hf" / "hub"
    snap = install_in_hub_cache(lora_model / "../../../base", "medvie-test/tiny-base", cache)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    model_dir = tmp_path / "grpo"
    shutil.copytree(lora_model / "adapter", model_dir / "adapter")
    (model_dir / "medvie_model.json").write_text(
        json.dumps({"base": "medvie-test/tiny-base", "adapter": "adapter"})
    )
    bundle_model(model_dir, tmp_path / "v", root=tmp_path)
    ptr = json.loads((tmp_path / "v" / "medvie_model.json").read_text())
    assert ptr["base"] == "medvie-test/tiny-base" and ptr["revision"] == Path(snap).name
    assert (_logits(tmp_path / "v") == _logits(lora_model)).all()

    ptr["revision"] = "0" * 40
    (tmp_path / "v" / "medvie_model.json").write_text(json.dumps(ptr))
    with pytest.raises(MedvieError, match=r"hf download medvie-test/tiny-base --revision 0000"):
        load(str(tmp_path / "v"))


def test_merge_stores_one_checkpoint_that_answers_as_base_plus_adapter(lora_model, tmp_path):
    from medvie.registry.bundle import bundle_model

    how = bundle_model(lora_model, tmp_path / "merged", root=lora_model.parents[1], merge=True)
    names = {p.name for p in (tmp_path / "merged").iterdir()}
    assert how["bundle"] == "merged" and "medvie_model.json" not in names and "adapter" not in names
    assert {"config.json", "model.safetensors"} <= names
    assert names & {"processor_config.json", "preprocessor_config.json"}  # the processor travels with it
    merged, adapted = _logits(tmp_path / "merged"), _logits(lora_model)
    assert float((merged - adapted).abs().max()) < 1e-4


def test_serving_requirements_pin_what_is_installed_and_never_name_medvie():
    from importlib import metadata

    from medvie.registry.bundle import serving_requirements

    reqs = dict(r.split("==") for r in serving_requirements())
    assert "medvie" not in reqs and reqs["torch"] == metadata.version("torch")
    assert {"mlflow", "transformers", "peft", "pillow"} <= set(reqs)


def test_the_logged_model_serves_where_medvie_is_not_installed(lora_model, tmp_path, store):
    """In a Python where `import medvie` fails, MLflow loads the version with the code it carries, and
    every package medvie's code imports while serving comes from a distribution its requirements bring."""
    from medvie.registry.recipe import Recipe
    from medvie.registry.register import register_model
    from medvie.settings import parse_params

    params = parse_params(
        {"queries": {"text_hints": "off", "schema": str(REPO / "schemas" / "medical.json")}}
    )
    reg = register_model(
        lora_model,
        name="medvie-bundle",
        recipe=Recipe.from_params(params, REPO),
        tags={},
        tracking_uri=store,
        root=lora_model.parents[1],
    )
    script = tmp_path / "serve_check.py"
    script.write_text(ISOLATED.replace("MODEL_URI", reg["model_uri"]))
    env = {**os.environ, "MLFLOW_TRACKING_URI": store, "PYTHONPATH": "", "OMP_NUM_THREADS": "1"}
    res = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["medvie_from"].endswith("/code/medvie/__init__.py")
    assert out["answers"] == 1 and {"torch", "transformers", "PIL"} <= set(out["imports"])
    assert not out["unbrought"], f"imported, but no logged requirement brings them: {out['unbrought']}"


# Runs in a fresh interpreter: hides the installed medvie, loads the version, asks it once, then checks
# that every distribution imported is one the logged requirements bring (directly or as dependencies).
ISOLATED = r"""
import builtins, importlib.util, json, os, re, sys
imported, plain_import = set(), builtins.__import__


def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and (globals or {}).get("__name__", "").startswith("medvie"):
        imported.add(name.split(".")[0])
    return plain_import(name, globals, locals, fromlist, level)


builtins.__import__ = recording_import
sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()
                 and "editable" not in getattr(f, "__name__", "").lower()]
sys.path = [p for p in sys.path if p and os.path.abspath(p) != os.getcwd()]
assert importlib.util.find_spec("medvie") is None, "medvie must not be importable before loading"
import mlflow
from PIL import Image
model = mlflow.pyfunc.load_model("MODEL_URI")
import medvie
img = Image.new("RGB", (56, 56), "white")
answers = model.predict([{"image": img, "keys": "Name"}])
from importlib import metadata
from mlflow.artifacts import download_artifacts
reqs = open(os.path.join(download_artifacts("MODEL_URI"), "requirements.txt")).read().split()
names = lambda n: re.split(r"[<>=!~;\[ ]", n)[0].lower().replace("_", "-")
todo, brought = [names(r) for r in reqs if r and not r.startswith("-")], set()
while todo:
    name = todo.pop()
    if name in brought:
        continue
    brought.add(name)
    try:
        deps = metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        continue
    todo += [names(d) for d in deps if "extra ==" not in d]
dists = metadata.packages_distributions()
used = {names(d) for m in imported for d in dists.get(m, []) if m != "medvie"}
print(json.dumps({"medvie_from": medvie.__file__, "answers": len(answers), "imports": sorted(imported),
                  "unbrought": sorted(used - brought)}))
"""
