"""Tiny Qwen2.5-VL: build, save, reload offline with the Auto classes, PEFT pointer dirs, batched
generation."""

import json

import pytest
from PIL import Image, ImageDraw

from medvie.errors import ConfigError
from medvie.modeling.tiny import TinySpec, build_tiny, build_tokenizer, save_tiny

SPEC = TinySpec.smallest()


def _page(w=448, h=300, text="WBC 11.2"):
    img = Image.new("RGB", (w, h), "white")
    ImageDraw.Draw(img).text((10, 10), text, fill="black")
    return img


def _prompt(text="Read the report."):
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    model, processor = build_tiny(spec=SPEC)
    return save_tiny(model, processor, tmp_path_factory.mktemp("m") / "tiny")


def test_reloads_with_auto_classes_and_counts_image_tokens(tiny_dir):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    import medvie.modeling.processor  # noqa: F401  (registers the processor)

    processor = AutoProcessor.from_pretrained(tiny_dir)
    model = AutoModelForImageTextToText.from_pretrained(tiny_dir)
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    text = processor.apply_chat_template(_prompt(), tokenize=False, add_generation_prompt=True)
    batch = processor(text=[text], images=[_page()], return_tensors="pt")
    assert {"pixel_values", "image_grid_thw"} <= set(batch)
    grid = batch["image_grid_thw"][0]
    n_image = int((batch["input_ids"] == model.config.image_token_id).sum())
    assert n_image == int(grid.prod()) // 4
    assert 100 <= n_image <= 256  # a tiny-preset page stays inside the image token budget
    out = model(**batch)
    assert out.logits.shape[-1] == model.config.text_config.vocab_size


def test_load_and_generate_batch_with_lora_pointer(tiny_dir, tmp_path):
    from peft import LoraConfig, get_peft_model

    from medvie.modeling import generate, load

    base, _ = load(str(tiny_dir))
    peft_model = get_peft_model(
        base, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    (tmp_path / "m").mkdir()
    peft_model.save_pretrained(tmp_path / "m" / "adapter")
    (tmp_path / "m" / "medvie_model.json").write_text(
        json.dumps({"base": str(tiny_dir), "adapter": "adapter"})
    )

    model, processor = load(str(tmp_path / "m"))
    assert not hasattr(model, "peft_config")  # merged
    plain, _ = load(str(tiny_dir))
    diff = [
        (a - b).abs().max().item()
        for (n, a), (_, b) in zip(model.named_parameters(), plain.named_parameters(), strict=True)
    ]
    assert max(diff) > 0  # the adapter changed the weights
    outs = generate(
        model,
        processor,
        [_page(), _page(400, 220, "Na 140")],
        [_prompt(), _prompt("Name?")],
        max_new_tokens=6,
        batch_size=2,
    )
    assert len(outs) == 2 and all(isinstance(o, str) for o in outs)
    assert not any("<|im_end|>" in o or "<|endoftext|>" in o for o in outs)
    # left padding: the same sample alone decodes to the same greedy string
    assert (
        generate(model, processor, [_page(400, 220, "Na 140")], [_prompt("Name?")], max_new_tokens=6)
        == outs[1:]
    )


def test_missing_hub_model_is_a_one_line_fix(monkeypatch, tmp_path):
    from medvie.modeling.loading import resolve_base

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ConfigError, match="hf download Qwen/Qwen2.5-VL-7B-Instruct"):
        resolve_base("Qwen/Qwen2.5-VL-7B-Instruct")


def test_qwen_vocab_tokenizer_round_trips():
    tok = build_tokenizer("qwen")
    assert len(tok) == 151665
    assert tok.convert_tokens_to_ids("<|image_pad|>") == 151655
    assert tok.convert_tokens_to_ids("<|im_end|>") == 151645
    text = 'Name: 李伟 WBC 11.2 10^9/L <think>ok</think><answer>{"Age": "45"}</answer>'
    ids = tok(text)["input_ids"]
    assert tok.decode(ids) == text
    assert [tok.decode([i]) for i in tok("2025")["input_ids"]] == ["2", "0", "2", "5"]


def test_bpe_tokenizer_splits_digits_and_keeps_format_tokens():
    tok = build_tokenizer("bpe", corpus=["Result 12.5 mmol/L"] * 20, vocab_size=300)
    ids = tok("<think>x</think> 2025")["input_ids"]
    assert tok.convert_tokens_to_ids("<think>") in ids
    assert tok.decode(ids) == "<think>x</think> 2025"
    assert len(tok("2025")["input_ids"]) == 4


def test_device_auto_places_the_model_with_a_device_map(tiny_dir, monkeypatch):
    """`evaluate.device: auto` (a 7B over the GPUs there are) loads through accelerate's device_map; with no
    GPU everything stays on the CPU and generation still runs."""
    from PIL import Image
    from transformers import AutoModelForImageTextToText

    from medvie.modeling import generate, load

    asked = {}
    plain = AutoModelForImageTextToText.from_pretrained.__func__

    def recording(cls, *args, **kwargs):
        asked.update(kwargs)
        return plain(cls, *args, **kwargs)

    monkeypatch.setattr(AutoModelForImageTextToText, "from_pretrained", classmethod(recording))
    model, processor = load(str(tiny_dir), device="auto")
    assert asked["device_map"] == "auto"
    prompt = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Name?"}]}]
    out = generate(model, processor, [Image.new("RGB", (56, 56), "white")], [prompt], max_new_tokens=3)
    assert len(out) == 1 and isinstance(out[0], str)
