"""One GRPO + LoRA step through the training stage on the release-shaped tiny Qwen2.5-VL (real vocabulary)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def real_dir(tmp_path_factory):
    from medvie.modeling.real_shapes import write_real_shapes

    return write_real_shapes(tmp_path_factory.mktemp("real") / "Qwen2.5-VL-7B-Instruct")


def test_one_grpo_lora_step_on_release_shapes(
    real_dir, tmp_path, make_queries, rewards_registry, small_grpo, monkeypatch
):
    from medvie.env import mlflow_uris
    from medvie.modeling.base import prepare_base
    from medvie.settings import parse_params
    from medvie.training.train import train_grpo

    make_queries(tmp_path, n=4)
    tracking, _ = mlflow_uris(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    monkeypatch.setenv("MEDVIE_ROOT", str(tmp_path))
    (tmp_path / "params.yaml").write_text("env: {threads: 1}\n")
    params = parse_params(
        {
            "model": {"name_or_path": str(real_dir)},
            "train": {"grpo": {**small_grpo, "max_completion_length": 6, "max_steps": 1}},
        }
    )
    # the warm start of a hub model is a pointer to it, as the model stage writes for models/base
    prepare_base(params.model, tmp_path, "models/warmstart")

    summary = train_grpo(params, tmp_path)

    assert summary["global_step"] == 1 and summary["lora"]
    out = tmp_path / "models" / "grpo"
    pointer = json.loads((out / "medvie_model.json").read_text())
    assert pointer["adapter"] == "adapter" and (out / pointer["base"]).resolve() == real_dir.resolve()
    adapter = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter["r"] == params.train.lora.r
    from medvie.modeling import load

    model, processor = load(str(out))  # base from the release dir, adapter merged
    assert model.get_input_embeddings().weight.shape[0] == 152064
    assert len(processor.tokenizer) == 151665
