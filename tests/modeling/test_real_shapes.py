"""The release-shaped tiny Qwen2.5-VL: the 7B release's files and shapes, loaded and run by medvie."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

HUB_ID = "medvie-test/Qwen2.5-VL-real-shapes"


@pytest.fixture(scope="module")
def real_dir(tmp_path_factory) -> Path:
    from medvie.modeling.real_shapes import write_real_shapes

    return write_real_shapes(tmp_path_factory.mktemp("real") / "Qwen2.5-VL-7B-Instruct")


def _page() -> Image.Image:
    # 224 x 168 px: 16 x 12 patches, more than one 112 px window (the last ones padded)
    img = Image.new("RGB", (224, 168), "white")
    ImageDraw.Draw(img).text((8, 8), "Name: Li Wei  Age: 45", fill="black")
    return img


def _prompt() -> list[dict]:
    from medvie.env import project_root
    from medvie.queries.build import ask_all, build_prompt
    from medvie.queries.schema import load_schema

    schema = load_schema(project_root() / "schemas" / "medical.json")
    text = build_prompt(schema, ask_all(schema), "en", thinking=True)
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]


def test_files_and_shapes_are_the_releases(real_dir):
    from medvie.modeling.real_shapes import EMBED_ROWS, REAL_VOCAB

    names = {p.name for p in real_dir.iterdir()}
    assert {
        "config.json",
        "generation_config.json",
        "preprocessor_config.json",
        "chat_template.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "model.safetensors.index.json",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
    } <= names
    cfg = json.loads((real_dir / "config.json").read_text())
    assert cfg["vocab_size"] == EMBED_ROWS == 152064
    assert cfg["hidden_size"] // cfg["num_attention_heads"] == 128
    assert cfg["rope_scaling"] == {"type": "mrope", "mrope_section": [16, 24, 24]}
    vision = cfg["vision_config"]
    assert (vision["patch_size"], vision["temporal_patch_size"], vision["spatial_merge_size"]) == (14, 2, 2)
    assert vision["window_size"] == 112 and len(vision["fullatt_block_indexes"]) < vision["depth"]
    gen = json.loads((real_dir / "generation_config.json").read_text())
    assert (gen["repetition_penalty"], gen["temperature"], gen["top_p"], gen["top_k"]) == (
        1.05,
        0.1,
        0.001,
        1,
    )
    weights = json.loads((real_dir / "model.safetensors.index.json").read_text())["weight_map"]
    assert "model.embed_tokens.weight" in weights and "visual.patch_embed.proj.weight" in weights
    assert "lm_head.weight" in weights  # the 7B does not tie it to the embedding

    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(real_dir)
    assert len(tok) == REAL_VOCAB
    ids = tok.convert_tokens_to_ids(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|image_pad|>"])
    assert ids == [151643, 151644, 151645, 151655]
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    assert tok("Hello 123")["input_ids"] == [9707, 220, 16, 17, 18]  # digits one per token, as Qwen2


def _check_loaded(model, processor) -> None:
    text = model.config.text_config
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert text.vocab_size == 152064 and text.hidden_size // text.num_attention_heads == 128
    assert text.rope_parameters["mrope_section"] == [16, 24, 24]
    assert model.config.vision_config.fullatt_block_indexes == [1]
    assert model.get_input_embeddings().weight.shape[0] == 152064
    assert len(processor.tokenizer) == 151665
    assert model.generation_config.repetition_penalty == 1.05


def _greedy(model, processor) -> list[str]:
    from medvie.modeling.loading import generate

    prompt = _prompt()
    batch = processor(
        text=[processor.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)],
        images=[_page()],
        return_tensors="pt",
    )
    grid = batch["image_grid_thw"][0].tolist()
    assert grid == [1, 12, 16]
    assert int((batch["input_ids"] == model.config.image_token_id).sum()) == 12 * 16 // 4
    out = generate(model, processor, [_page(), _page()], [prompt, prompt], max_new_tokens=6)
    again = generate(model, processor, [_page()], [prompt], max_new_tokens=6)
    assert len(out) == 2 and all(isinstance(t, str) for t in out)
    assert out[0] == out[1] == again[0]  # greedy, and left padding does not change the answer
    return out


def test_model_stage_loads_a_local_release_dir_and_generates(real_dir, tmp_path):
    from medvie.modeling import load
    from medvie.modeling.base import prepare_base
    from medvie.modeling.config import ModelConfig

    base = prepare_base(ModelConfig(name_or_path=str(real_dir)), tmp_path, "models/base")
    assert json.loads((base / "medvie_model.json").read_text())["base"] == str(real_dir)
    model, processor = load(str(base))
    _check_loaded(model, processor)
    _greedy(model, processor)


def test_hub_id_resolves_through_the_local_cache(real_dir, tmp_path, monkeypatch):
    from huggingface_hub import constants

    from medvie.modeling import load
    from medvie.modeling.base import prepare_base
    from medvie.modeling.config import ModelConfig
    from medvie.modeling.real_shapes import install_in_hub_cache

    cache = tmp_path / "hf" / "hub"
    snap = install_in_hub_cache(real_dir, HUB_ID, cache)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)

    base = prepare_base(ModelConfig(name_or_path=HUB_ID), tmp_path, "models/base")
    assert json.loads((base / "medvie_model.json").read_text()) == {"base": HUB_ID, "adapter": None}
    from transformers import AutoConfig

    assert AutoConfig.from_pretrained(HUB_ID).model_type == "qwen2_5_vl"
    model, processor = load(str(base))
    _check_loaded(model, processor)
    assert Path(model.config._name_or_path).resolve() == snap.resolve()


def test_install_refuses_a_cache_with_a_real_download(real_dir, tmp_path):
    from medvie.modeling.real_shapes import install_in_hub_cache

    (tmp_path / "models--Qwen--Qwen2.5-VL-7B-Instruct" / "blobs").mkdir(parents=True)
    with pytest.raises(ValueError, match="downloaded model"):
        install_in_hub_cache(real_dir, "Qwen/Qwen2.5-VL-7B-Instruct", tmp_path)


def _legacy_copy(real_dir: Path, where: Path, legacy: str) -> Path:
    old = where / "old"
    shutil.copytree(real_dir, old, copy_function=os.link)
    (old / "preprocessor_config.json").unlink()  # a link: do not write through to the shared checkpoint
    cfg = json.loads((real_dir / "preprocessor_config.json").read_text())
    (old / "preprocessor_config.json").write_text(json.dumps({**cfg, "image_processor_type": legacy}))
    return old


@pytest.mark.parametrize("legacy", ["Qwen2_5_VLImageProcessor", "Qwen2_5_VLImageProcessorFast"])
def test_legacy_image_processor_type_is_mapped(real_dir, tmp_path, legacy):
    """Released snapshots and fine-tunes saved by older transformers name a class that no longer exists."""
    from transformers import AutoImageProcessor

    from medvie.modeling.loading import load_processor

    old = _legacy_copy(real_dir, tmp_path, legacy)
    with pytest.raises(ValueError):  # what the pinned transformers does by itself
        AutoImageProcessor.from_pretrained(old)
    processor = load_processor(str(old))
    assert type(processor.image_processor).__name__.startswith("Qwen2VLImageProcessor")
    assert processor.image_processor.size["longest_edge"] == 12845056
    assert len(processor.tokenizer) == 151665


def test_legacy_checkpoint_loads_generates_and_is_saved_under_the_current_name(real_dir, tmp_path):
    from medvie.modeling.base import prepare_base
    from medvie.modeling.config import ModelConfig
    from medvie.modeling.loading import load

    old = _legacy_copy(real_dir, tmp_path, "Qwen2_5_VLImageProcessor")
    model, processor = load(str(old))
    _check_loaded(model, processor)
    _greedy(model, processor)
    # a pixel budget makes the model stage save the processor: under the current class name
    base = prepare_base(ModelConfig(name_or_path=str(old), max_pixels=64 * 784), tmp_path, "models/base")
    saved = json.loads((base / "processor_config.json").read_text())
    assert saved["image_processor"]["image_processor_type"].startswith("Qwen2VLImageProcessor")
    assert json.loads((old / "preprocessor_config.json").read_text())["image_processor_type"] == (
        "Qwen2_5_VLImageProcessor"
    )
