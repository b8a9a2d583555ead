"""A preset is a whole run: loaded as `medvie train --preset` loads it, its evaluate section matches its model
and train sections (device, dtype, tokens); params.yaml's own run is consistent too."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from medvie.config_base import load_yaml
from medvie.errors import ConfigError
from medvie.settings import load_params, parse_params
from medvie.training.presets import inconsistencies, load_with_preset, merge

REPO = Path(__file__).resolve().parents[2]
PRESETS = sorted(p.stem for p in (REPO / "configs" / "presets").glob("*.yaml"))


@pytest.mark.parametrize("preset", PRESETS)
def test_a_preset_evaluates_as_it_trains(preset):
    params = load_with_preset(REPO / "params.yaml", preset, REPO)
    grpo, ev = params.train.grpo, params.evaluate
    assert inconsistencies(params) == []
    assert ev.max_new_tokens >= grpo["max_completion_length"]
    # trained on the GPU in bf16: evaluated there, in the same dtype as the model section loads it
    assert grpo["bf16"] and not grpo["use_cpu"]
    assert ev.device.startswith("cuda")
    assert ev.dtype == params.model.dtype == "bfloat16"
    assert ev.batch_size >= 1
    # decoding is params.yaml's: greedy, no repetition penalty
    assert ev.generation.do_sample is False and ev.generation.repetition_penalty == 1.0
    assert ev.generation.num_beams == 1


def test_params_yaml_run_is_consistent():
    params = load_params(REPO / "params.yaml")
    assert inconsistencies(params) == []
    ev = params.evaluate
    assert ev.device == "cpu" and ev.dtype == "auto"  # the CPU run of the tiny model, as before
    assert ev.max_new_tokens >= params.train.grpo["max_completion_length"]
    assert ev.generation.do_sample is False and ev.generation.repetition_penalty == 1.0


def test_a_preset_that_trains_on_gpu_but_leaves_evaluate_is_refused(tmp_path):
    raw = yaml.safe_load((REPO / "configs" / "presets" / "qwen2.5-vl-7b.yaml").read_text())
    raw.pop("evaluate")
    path = tmp_path / "train-only.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as exc:
        load_with_preset(REPO / "params.yaml", str(path), REPO)
    message = str(exc.value)
    assert "\n" not in message and str(path) in message
    assert "evaluate.max_new_tokens (320)" in message and "(1024)" in message


@pytest.mark.parametrize(
    ("evaluate", "names"),
    [
        ({"device": "cpu"}, "evaluate.device"),
        ({"dtype": "float32"}, "evaluate.dtype"),
        ({"max_new_tokens": 256}, "evaluate.max_new_tokens"),
    ],
)
def test_each_mismatch_is_named(evaluate, names):
    base = load_yaml((REPO / "params.yaml").read_text())
    preset = yaml.safe_load((REPO / "configs" / "presets" / "qwen2.5-vl-7b.yaml").read_text())
    params = parse_params(merge(merge(base, preset), {"evaluate": evaluate}))
    issues = inconsistencies(params)
    assert len(issues) == 1 and names in issues[0]
