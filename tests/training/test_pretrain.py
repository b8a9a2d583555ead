"""Pretraining loop on a micro config with a fake renderer: it trains, checkpoints, exports and resumes."""

import json
from dataclasses import dataclass

from PIL import Image, ImageDraw

from medvie.modeling.tiny import TinySpec
from medvie.training.pretrain import PretrainConfig, pretrain
from medvie.training.pretrain.data import crop_lines, join_lines


@dataclass
class FakeReport:
    image: Image.Image
    label: dict
    doc_type: str
    meta: dict


def fake_render(seed, language):
    name, age = f"Pat {seed % 97}", str(20 + seed % 60)
    rows = [f"Name: {name}", f"Age: {age}", f"WBC {seed % 13}.{seed % 10} 10^9/L"]
    img = Image.new("RGB", (448, 140), (250, 248, 240))
    draw = ImageDraw.Draw(img)
    layer = []
    for i, text in enumerate(rows):
        y = 10 + 30 * i
        draw.text((12, y), text, fill="black")
        x0, y0, x1, y1 = draw.textbbox((12, y), text)
        layer.append({"text": text, "box": [x0, y0, x1, y1]})
    label = {
        "Name": name,
        "Age": age,
        "Indicators": [{"Item Name": "WBC", "Result": f"{seed % 13}.{seed % 10}", "Unit": "10^9/L"}],
    }
    return FakeReport(img, label, "cbc", {"text_layer": layer})


def test_crop_is_whole_cells_and_rows_join():
    page = fake_render(3, "en")
    crop = crop_lines(page.image, page.meta["text_layer"][:2])
    assert crop.width % 28 == 0 and crop.height % 28 == 0
    assert join_lines(page.meta["text_layer"][:2]) == "Name: Pat 3\nAge: 23"
    same_row = [{"text": "WBC", "box": [0, 0, 20, 10]}, {"text": "11.2", "box": [40, 1, 60, 11]}]
    assert join_lines(same_row) == "WBC 11.2"


def test_pretrain_resumes_and_exports(tmp_path, caplog):
    caplog.set_level("INFO", logger="medvie")
    spec = TinySpec.smallest()
    cfg = PretrainConfig(
        out_dir=str(tmp_path / "out"),
        work_dir=str(tmp_path / "work"),
        spec=spec,
        vocab_size=300,
        corpus_pages=5,
        batch_size=2,
        pool_size=4,
        max_steps=3,
        checkpoint_steps=2,
        checkpoint_minutes=60,
        eval_pages=2,
        eval_lines=2,
        max_target_tokens=24,
        warmup_steps=2,
    )
    first = pretrain(cfg, render=fake_render)
    assert first["step"] == 3 and [h["step"] for h in first["history"]] == [2, 3]
    assert (tmp_path / "out" / "model.safetensors").exists() and (tmp_path / "out" / "README.md").exists()

    cfg.max_steps = 5
    second = pretrain(cfg, render=fake_render)
    assert any(m.startswith("resumed from") and "step 3" in m for m in caplog.messages)
    assert second["step"] == 5 and [h["step"] for h in second["history"]] == [2, 3, 4, 5]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["best"]["step"] in {2, 3, 4, 5} and 0 <= metrics["best"]["line_char_acc"] <= 1

    from medvie.modeling import load

    model, processor = load(str(tmp_path / "out"))
    assert model.config.text_config.hidden_size == 32


def test_hinted_extraction_prompt_carries_the_page_text():
    import random

    from medvie.training.pretrain.data import _schema, make_example

    page = fake_render(5, "en")
    page = {"image": page.image, "label": page.label, "doc_type": "cbc", "lines": page.meta["text_layer"]}
    rng = random.Random(0)
    hinted = make_example(page, "extract", rng, 1, _schema(), hints=1.0)
    plain = make_example(page, "extract", rng, 1, _schema(), hints=0.0)
    assert hinted["text"].startswith("Text read from the document") and "Name: Pat 5" in hinted["text"]
    assert "Text read from the document" not in plain["text"]
    assert hinted["target"].startswith("<think>")
    from medvie.rewards.flatten import flatten

    values = [v for _, v in flatten(hinted["truth"]) if v]
    assert all(
        str(v) in hinted["text"] for v in values
    )  # every asked value can be copied from the hint block


def test_pretrain_starts_from_an_exported_checkpoint(tmp_path, caplog):
    caplog.set_level("INFO", logger="medvie")
    import torch

    from medvie.modeling import load

    spec = TinySpec.smallest()
    small = dict(
        vocab_size=300,
        corpus_pages=5,
        batch_size=2,
        pool_size=4,
        checkpoint_minutes=60,
        eval_pages=2,
        eval_lines=2,
        max_target_tokens=24,
        warmup_steps=2,
    )
    pretrain(
        PretrainConfig(
            out_dir=str(tmp_path / "a"), work_dir=str(tmp_path / "wa"), spec=spec, max_steps=2, **small
        ),
        render=fake_render,
    )
    cfg = PretrainConfig(
        out_dir=str(tmp_path / "b"),
        work_dir=str(tmp_path / "wb"),
        max_steps=1,
        hints=1.0,
        mix={"extract": 1.0},
        init_from=str(tmp_path / "a"),
        **small,
    )
    record = pretrain(cfg, render=fake_render)
    assert any(m.startswith("initialised from") for m in caplog.messages)
    assert (
        record["step"] == 1 and record["spec"]["hidden"] == 32
    )  # the spec comes from the checkpoint, not cfg
    before, _ = load(str(tmp_path / "a"))
    after, _ = load(str(tmp_path / "b"))
    w0 = before.state_dict()["model.language_model.embed_tokens.weight"]
    w1 = after.state_dict()["model.language_model.embed_tokens.weight"]
    assert w0.shape == w1.shape and not torch.equal(w0, w1)  # same model, one optimizer step on
    assert (w0 - w1).abs().max() < 0.05


def test_copy_examples_are_text_only_and_batch_with_image_examples():
    import random

    from medvie.modeling.tiny import build_tiny, build_tokenizer
    from medvie.training.pretrain.data import _schema, collate, make_example

    page = fake_render(8, "en")
    page = {"image": page.image, "label": page.label, "doc_type": "cbc", "lines": page.meta["text_layer"]}
    rng = random.Random(1)
    copy = make_example(page, "copy", rng, 1, _schema())
    assert copy["image"] is None and copy["target"] in copy["text"] and "Age: 28" in copy["target"]
    spec = TinySpec.smallest()
    _, processor = build_tiny(build_tokenizer("bpe", [copy["text"], "Name Age WBC"], vocab_size=300), spec)
    batch = collate(processor, [copy, make_example(page, "extract", rng, 1, _schema(), hints=1.0)], 64)
    image_id = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    per_row = (batch["input_ids"] == image_id).sum(1)
    assert per_row[0] == 0 and per_row[1] > 0 and batch["pixel_values"].shape[0] > 0
    assert (batch["labels"][0] != -100).sum() > 0


def test_echo_examples_copy_random_vocabulary_text():
    import random

    from medvie.modeling.tiny import build_tokenizer
    from medvie.training.pretrain.data import echo_example

    tok = build_tokenizer("bpe", ["Name: Pat 3\nAge: 23\nWBC 4.5 10^9/L"] * 3, vocab_size=300)
    a, b = echo_example(tok, random.Random(0)), echo_example(tok, random.Random(1))
    assert a["image"] is None and a["target"] != b["target"]
    assert a["text"].startswith("Text read from the document") and a["text"].index(a["target"]) > 0
    assert all(1 <= len(row) for row in a["target"].split("\n"))


def test_an_echo_only_mix_trains_on_echo_batches(tmp_path):
    spec = TinySpec.smallest()
    cfg = PretrainConfig(
        out_dir=str(tmp_path / "out"),
        work_dir=str(tmp_path / "work"),
        spec=spec,
        vocab_size=300,
        corpus_pages=5,
        batch_size=2,
        pool_size=4,
        max_steps=2,
        checkpoint_minutes=60,
        eval_pages=2,
        eval_lines=2,
        max_target_tokens=24,
        warmup_steps=2,
        mix={"echo": 1.0},
        echo_batch_factor=2,
    )
    record = pretrain(cfg, render=fake_render, command_args="--mix echo=1")
    assert record["step"] == 2 and record["runs"] == [{"step": 0, "args": "--mix echo=1"}]
    assert "--mix echo=1" in (tmp_path / "out" / "README.md").read_text()
