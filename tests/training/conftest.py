"""Fixtures of the training tests: a random tiny Qwen2.5-VL, a small query set, rewards."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from PIL import Image, ImageDraw


@pytest.fixture(scope="session")
def grpo_recipe() -> dict:
    """train.grpo of the project's params.yaml: a test overrides, explicitly, only what it must."""
    from medvie.settings import load_params

    return dict(load_params(Path(__file__).resolve().parents[2] / "params.yaml").train.grpo)


@pytest.fixture(scope="session")
def small_grpo(grpo_recipe) -> dict:
    """The params.yaml recipe run small on a CPU: one generation batch of 4 rollouts of one prompt, a
    checkpoint every step; a test adds max_steps."""
    small = {
        "use_cpu": True,
        "bf16": False,
        "num_generations": 4,
        "per_device_train_batch_size": 4,
        "gradient_accumulation_steps": 1,
        "save_steps": 1,
    }
    return {**grpo_recipe, **small}


def _page(i: int) -> Image.Image:
    img = Image.new("RGB", (112, 84), "white")
    ImageDraw.Draw(img).text((4, 4 + 10 * (i % 5)), f"Name: P{i}", fill="black")
    return img


def write_queries(root: Path, n: int = 8, thinking: bool = True) -> Path:
    """data/queries/train.jsonl + images in the queries contract, and data/ingested/records.jsonl
    with text layers."""
    qdir = root / "data" / "queries"
    (qdir / "images").mkdir(parents=True, exist_ok=True)
    ing = root / "data" / "ingested"
    (ing / "images").mkdir(parents=True, exist_ok=True)
    queries, records = [], []
    for i in range(n):
        rid = f"r{i}"
        _page(i).save(qdir / "images" / f"{rid}.png")
        _page(i).save(ing / "images" / f"{rid}.png")
        truth = {"Name": f"P{i}"}
        queries.append(
            {
                "id": f"q{i}",
                "record_id": rid,
                "prompt": [
                    {
                        "role": "user",
                        "content": [{"type": "image"}, {"type": "text", "text": "Give Name as JSON."}],
                    }
                ],
                "image": f"images/{rid}.png",
                "truth": json.dumps(truth),
                "keys": ["Name"],
                "thinking": thinking,
                "doc_type": "cbc",
                "strategy": "subset",
            }
        )
        records.append(
            {
                "id": rid,
                "image": f"images/{rid}.png",
                "label": truth,
                "doc_type": "cbc",
                "split": "train",
                "meta": {
                    "text_layer": [
                        {"text": "LAB REPORT", "box": [0, 0, 10, 10]},
                        {"text": f"Name: P{i}", "box": [0, 10, 10, 20]},
                    ]
                },
            }
        )
    for split in ("train",):
        (qdir / f"{split}.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (ing / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return qdir


def _fake_rewards() -> types.ModuleType:
    def format_reward(completions, **kwargs):
        texts = [c[0]["content"] if isinstance(c, list) else c for c in completions]
        return [1.0 if "<answer>" in t else 0.0 for t in texts]

    def matching_reward(completions, truth, **kwargs):
        texts = [c[0]["content"] if isinstance(c, list) else c for c in completions]
        return [float(json.loads(t_)["Name"] in t) for t, t_ in zip(texts, truth, strict=True)]

    format_reward.__name__, matching_reward.__name__ = "format", "matching"
    mod = types.ModuleType("medvie.rewards.registry")

    def build_reward_funcs(cfg):
        return [format_reward, matching_reward], [1.0, 1.0]

    mod.build_reward_funcs = build_reward_funcs
    return mod


@pytest.fixture
def rewards_registry(monkeypatch):
    """The real reward registry when it exists, else a stand-in with the contract's signature."""
    try:
        import medvie.rewards.registry  # noqa: F401
    except ImportError:
        monkeypatch.setitem(sys.modules, "medvie.rewards.registry", _fake_rewards())
    yield


@pytest.fixture
def project(tmp_path, untrained_tiny, rewards_registry, monkeypatch):
    """A project root with queries and a model; MLflow goes to a sqlite file inside it."""
    import shutil

    from medvie.env import mlflow_uris

    write_queries(tmp_path)
    shutil.copytree(untrained_tiny, tmp_path / "models" / "warmstart")
    (tmp_path / "params.yaml").write_text("env: {threads: 1}\n")
    tracking, _ = mlflow_uris(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    monkeypatch.setenv("MEDVIE_ROOT", str(tmp_path))
    return tmp_path


@pytest.fixture
def make_queries():
    """`write_queries(root, n=8, thinking=True)` for tests that build their own project."""
    return write_queries
