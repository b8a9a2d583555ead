"""Evaluation decodes with evaluate.generation, never with the checkpoint's generation_config.json, and
loads the model with evaluate.device / evaluate.dtype."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from medvie.evaluation.predictors import generation_tags, model_predictor
from medvie.settings import load_params

REPO = Path(__file__).resolve().parents[2]
# a released Qwen2.5-VL's decoding choices, and one more that generate() would also take from the file
QWEN_LIKE = {"do_sample": True, "top_k": 1, "top_p": 0.001, "temperature": 0.1, "repetition_penalty": 1.05}
LEAKY = {**QWEN_LIKE, "no_repeat_ngram_size": 2}


@pytest.fixture(scope="module")
def model_dirs(untrained_tiny, tmp_path_factory) -> tuple[Path, Path]:
    """(a tiny checkpoint whose generation_config.json samples with a repetition penalty, the same weights
    with a plain greedy generation_config.json)."""
    plain = untrained_tiny
    leaky = tmp_path_factory.mktemp("gen") / "leaky"
    shutil.copytree(plain, leaky)
    path = leaky / "generation_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **LEAKY}))
    return leaky, plain


@pytest.fixture
def rows(name_rows) -> list[dict]:
    return name_rows(["Give Name as JSON."] * 3)


@pytest.fixture
def decoding_spy(monkeypatch) -> list:
    """Every GenerationConfig generate() decodes with, after its merge with the model's own."""
    from transformers.generation.utils import GenerationMixin

    seen: list = []
    real = GenerationMixin._prepare_generation_config

    def spy(self, generation_config, **kwargs):
        config, model_kwargs = real(self, generation_config, **kwargs)
        seen.append(config)
        return config, model_kwargs

    monkeypatch.setattr(GenerationMixin, "_prepare_generation_config", spy)
    return seen


def test_checkpoint_generation_config_does_not_leak_into_evaluation(model_dirs, rows, decoding_spy):
    leaky, plain = model_dirs
    ev = load_params(REPO / "params.yaml").evaluate
    predict = model_predictor(
        leaky, max_new_tokens=6, batch_size=2, dtype=ev.dtype, generation=ev.generation, device=ev.device
    )
    answers = predict(rows)
    assert len(decoding_spy) == 2  # two batches
    for config in decoding_spy:
        # exactly params.yaml's evaluate.generation
        for key, value in ev.generation.as_kwargs().items():
            assert getattr(config, key) == value, key
        assert config.no_repeat_ngram_size == 0 and config.max_new_tokens == 6
        assert (
            config.eos_token_id == json.loads((leaky / "generation_config.json").read_text())["eos_token_id"]
        )

    # the same weights with a plain greedy generation_config.json answer alike
    decoding_spy.clear()
    greedy = model_predictor(plain, max_new_tokens=6, batch_size=2, generation=ev.generation)(rows)
    assert answers == greedy


def test_default_decoding_is_greedy_for_callers_without_settings(model_dirs, rows, decoding_spy):
    # serving builds its predictor from a recipe that may carry no generation settings
    model_predictor(model_dirs[0], max_new_tokens=4, batch_size=3)(rows)
    (config,) = decoding_spy
    assert (config.do_sample, config.repetition_penalty, config.num_beams) == (False, 1.0, 1)


def test_evaluate_dtype_and_device_reach_the_loader(model_dirs, monkeypatch):
    import torch

    from medvie import modeling

    loaded = []
    real = modeling.load

    def load(path, **kwargs):
        loaded.append(kwargs)
        model, processor = real(path, **kwargs)
        loaded.append(next(model.parameters()).dtype)
        return model, processor

    monkeypatch.setattr(modeling, "load", load)
    model_predictor(model_dirs[1], device="cpu", dtype="bfloat16")
    assert loaded[0]["device"] == "cpu" and loaded[0]["dtype"] == "bfloat16"
    assert loaded[1] == torch.bfloat16


def test_the_evaluate_section_is_what_the_predictor_gets(model_dirs, rows, decoding_spy):
    from medvie.evaluation.predictors import predictor_settings
    from medvie.settings import parse_params

    greedy_penalised = {"repetition_penalty": 1.2, "no_repeat_ngram_size": 0}
    ev = parse_params({"evaluate": {"max_new_tokens": 5, "generation": {"repetition_penalty": 1.2}}}).evaluate
    model_predictor(model_dirs[0], **predictor_settings(ev))(rows)
    for config in decoding_spy:
        assert config.max_new_tokens == 5 and config.do_sample is False
        assert {k: getattr(config, k) for k in greedy_penalised} == greedy_penalised


def test_generation_settings_are_tags_of_the_evaluation_run():
    ev = load_params(REPO / "params.yaml").evaluate
    tags = generation_tags(ev)
    assert tags["eval.generation.do_sample"] == "False"
    assert tags["eval.generation.repetition_penalty"] == "1.0"
    assert (
        tags["eval.dtype"] == "auto" and tags["eval.device"] == "cpu" and tags["eval.max_new_tokens"] == "320"
    )
    assert all(isinstance(v, str) for v in tags.values())


def test_generation_is_bounded_by_max_new_tokens_alone(model_dirs, rows, caplog):
    # a default max_length beside max_new_tokens made transformers warn once per evaluated batch
    from transformers.utils import logging as hf_logging

    hf_logging.enable_propagation()
    try:
        ev = load_params(REPO / "params.yaml").evaluate
        predict = model_predictor(model_dirs[1], max_new_tokens=5, batch_size=2, generation=ev.generation)
        with caplog.at_level("WARNING"):
            answers = predict(rows)
    finally:
        hf_logging.disable_propagation()
    assert len(answers) == len(rows)
    assert not [r.getMessage() for r in caplog.records if "max_length" in r.getMessage()]
