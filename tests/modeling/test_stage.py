"""The model stage: tiny copy, random init, pointer for a local path, one-line errors."""

import json

import pytest

from medvie.errors import ConfigError
from medvie.modeling.base import prepare_base
from medvie.modeling.config import ModelConfig
from medvie.settings import parse_params


def test_tiny_missing_names_the_command(tmp_path):
    with pytest.raises(ConfigError, match="medvie pretrain-tiny"):
        prepare_base(ModelConfig(tiny_dir="nowhere"), tmp_path)


def test_random_init_then_pointer_to_local_dir(tmp_path):
    out = prepare_base(ModelConfig(random_init=True, max_pixels=100 * 784), tmp_path, "models/rand")
    assert (out / "model.safetensors").exists()
    assert (
        json.loads((out / "processor_config.json").read_text())["image_processor"]["size"]["longest_edge"]
        == 78400
    )

    ptr = prepare_base(ModelConfig(name_or_path="models/rand"), tmp_path, "models/base")
    assert json.loads((ptr / "medvie_model.json").read_text()) == {
        "base": str(out.resolve()),
        "adapter": None,
    }
    copy = prepare_base(ModelConfig(tiny_dir="models/rand"), tmp_path, "models/copy")
    assert (copy / "model.safetensors").read_bytes() == (out / "model.safetensors").read_bytes()


def test_bad_model_params_are_named():
    with pytest.raises(ConfigError, match="model.max_pixel"):
        parse_params({"model": {"max_pixel": 5}})
    with pytest.raises(ConfigError, match="min_pixels"):
        parse_params({"model": {"min_pixels": 10_000, "max_pixels": 5_000}})
