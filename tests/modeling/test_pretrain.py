"""Pretraining loop on a micro config with a fake renderer: it trains, checkpoints, exports and resumes."""

import json
from dataclasses import dataclass

import pytest
from PIL import Image, ImageDraw

pytest.importorskip("torch")

from medvie.modeling.pretrain import PretrainConfig, crop_lines, join_lines, pretrain  # noqa: E402
from medvie.modeling.tiny import TinySpec  # noqa: E402


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
    label = {"Name": name, "Age": age,
             "Indicators": [{"Item Name": "WBC", "Result": f"{seed % 13}.{seed % 10}", "Unit": "10^9/L"}]}
    return FakeReport(img, label, "cbc", {"text_layer": layer})


def test_crop_is_whole_cells_and_rows_join():
    page = fake_render(3, "en")
    crop = crop_lines(page.image, page.meta["text_layer"][:2])
    assert crop.width % 28 == 0 and crop.height % 28 == 0
    assert join_lines(page.meta["text_layer"][:2]) == "Name: Pat 3\nAge: 23"
    same_row = [{"text": "WBC", "box": [0, 0, 20, 10]}, {"text": "11.2", "box": [40, 1, 60, 11]}]
    assert join_lines(same_row) == "WBC 11.2"


def test_pretrain_resumes_and_exports(tmp_path):
    spec = TinySpec(hidden=32, layers=1, heads=2, kv_heads=1, intermediate=64, vision_hidden=32, vision_depth=1,
                    vision_heads=1, vision_intermediate=64)  # fmt: skip
    cfg = PretrainConfig(out_dir=str(tmp_path / "out"), work_dir=str(tmp_path / "work"), spec=spec, vocab_size=300,
                         corpus_pages=5, batch_size=2, pool_size=4, max_steps=3, checkpoint_steps=2,
                         checkpoint_minutes=60, eval_pages=2, eval_lines=2, max_target_tokens=24, warmup_steps=2)  # fmt: skip
    logs = []
    first = pretrain(cfg, render=fake_render, log=logs.append)
    assert first["step"] == 3 and [h["step"] for h in first["history"]] == [2, 3]
    assert (tmp_path / "out" / "model.safetensors").exists() and (tmp_path / "out" / "README.md").exists()

    cfg.max_steps = 5
    second = pretrain(cfg, render=fake_render, log=logs.append)
    assert any(line.startswith("resumed from") and "step 3" in line for line in logs)
    assert second["step"] == 5 and [h["step"] for h in second["history"]] == [2, 3, 4, 5]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["best"]["step"] in {2, 3, 4, 5} and 0 <= metrics["best"]["line_char_acc"] <= 1

    from medvie.modeling import load

    model, processor = load(str(tmp_path / "out"))
    assert model.config.text_config.hidden_size == 32
