"""The pixel budget is one fact: the trainer's processor and a vLLM engine (which builds its processor from
the checkpoint's preprocessor_config.json, the release's budget of up to 16,384 image tokens) cut a page into
the same image tokens, above and below the budget; evaluation sees the same pixels."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from PIL import Image, ImageDraw

BUDGET_7B = 1003520  # configs/presets/qwen2.5-vl-7b.yaml: model.max_pixels, 1280 image tokens
TEXT = "<|vision_start|><|image_pad|><|vision_end|>Name?"


@pytest.fixture(scope="module")
def real_dir(tmp_path_factory):
    from medvie.modeling.real_shapes import write_real_shapes

    return write_real_shapes(tmp_path_factory.mktemp("real") / "Qwen2.5-VL-7B-Instruct")


@pytest.fixture(scope="module")
def processors(real_dir):
    """(the trainer's processor under the 7B preset's budget, the checkpoint's own as vLLM builds it)."""
    from medvie.modeling.loading import load_processor
    from medvie.modeling.processor import set_pixel_budget

    trainer = load_processor(str(real_dir))
    set_pixel_budget(trainer, None, BUDGET_7B)
    return trainer, load_processor(str(real_dir))


def _page(width: int, height: int) -> Image.Image:
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    for y in range(10, height - 20, 40):
        draw.text((20, y), f"Haemoglobin {y} g/L  120-160", fill="black")
    return img


def _image_tokens(processor, image) -> int:
    batch = processor(text=[TEXT], images=[image], return_tensors="pt")
    return int((batch["input_ids"] == processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")).sum())


def _queries(tmp_path, pages) -> object:
    from medvie.queries.dataset import load_queries

    (tmp_path / "images").mkdir()
    rows = []
    for i, page in enumerate(pages):
        page.save(tmp_path / "images" / f"p{i}.png")
        prompt = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Give Name."}]}]
        rows.append({"id": f"q{i}", "prompt": prompt, "image": f"images/p{i}.png", "truth": "{}"})
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return load_queries(path)


def test_a_page_above_the_budget_differs_unfitted_and_agrees_fitted(processors):
    from medvie.modeling.processor import fit_image, pixel_budget

    trainer, engine = processors
    page = _page(1400, 1000)
    # the defect: the same page, two token counts (about 1260 vs 1800)
    assert _image_tokens(trainer, page) == 1260 and _image_tokens(engine, page) == 1800
    fitted = fit_image(page, pixel_budget(trainer))
    assert _image_tokens(trainer, fitted) == _image_tokens(engine, fitted) == 1260
    # fitting is what the processor does itself: the same pixel values, so evaluation is unchanged
    alone = trainer(text=[TEXT], images=[page], return_tensors="pt")["pixel_values"]
    via_fit = trainer(text=[TEXT], images=[fitted], return_tensors="pt")["pixel_values"]
    assert float((alone - via_fit).abs().max()) == 0.0


def test_rollout_images_agree_above_and_below_the_budget(processors, tmp_path):
    from medvie.training.train import rollout_dataset

    trainer, engine = processors
    pages = [_page(1400, 1000), _page(448, 320)]
    args = SimpleNamespace(use_vllm=False, vllm_max_model_length=None, max_completion_length=1024)
    ds = rollout_dataset(args, _queries(tmp_path, pages), trainer)
    counts = [(_image_tokens(trainer, row["image"]), _image_tokens(engine, row["image"])) for row in ds]
    assert counts[0] == (1260, 1260)
    assert counts[1][0] == counts[1][1] == _image_tokens(engine, pages[1])  # under budget: as it was
    assert args.vllm_max_model_length is None  # no vLLM, nothing to size


def test_vllm_model_length_is_longest_prompt_plus_completion(processors, tmp_path):
    from medvie.training.train import rollout_dataset

    trainer, _ = processors
    args = SimpleNamespace(use_vllm=True, vllm_max_model_length=None, max_completion_length=1024)
    ds = rollout_dataset(args, _queries(tmp_path, [_page(448, 320), _page(1400, 1000)]), trainer)
    row = ds[1]
    text = trainer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
    longest = len(trainer(text=[text], images=[row["image"]])["input_ids"][0])
    assert longest > 1260 and args.vllm_max_model_length == longest + 1024
    # a length the user set is kept
    args = SimpleNamespace(use_vllm=True, vllm_max_model_length=4096, max_completion_length=1024)
    rollout_dataset(args, ds, trainer)
    assert args.vllm_max_model_length == 4096
