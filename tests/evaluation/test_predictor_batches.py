"""The model predictor batches queries of similar prompt length together and answers in the rows' order."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from medvie import modeling
from medvie.evaluation.predictors import length_order, model_predictor


def _row(tmp_path: Path, name: str, text: str) -> dict:
    path = tmp_path / f"{name}.png"
    Image.new("RGB", (32, 32), "white").save(path)
    prompt = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]
    return {"image_path": str(path), "prompt": prompt}


def test_length_order_is_shortest_first_and_stable():
    def row(text):
        return {"prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]}

    rows = [row("x" * 30), row("x" * 5), {"prompt": [{"role": "user", "content": "x" * 5}]}, row("x" * 12)]
    assert length_order(rows) == [1, 2, 3, 0]


def test_batches_group_similar_lengths_and_answers_keep_row_order(tmp_path, monkeypatch):
    lengths = [300, 10, 290, 12, 310, 11]  # long and short queries interleaved, as a test set holds them
    rows = [_row(tmp_path, str(i), "k" * n) for i, n in enumerate(lengths)]
    batches: list[list[int]] = []

    def fake_generate(model, processor, images, prompts, **kwargs):
        sizes = [len(p[0]["content"][1]["text"]) for p in prompts]
        batches.append(sizes)
        return [f"answer-{n}" for n in sizes]

    monkeypatch.setattr(modeling, "load", lambda *a, **k: (object(), object()))
    monkeypatch.setattr(modeling, "generate", fake_generate)
    monkeypatch.setattr("medvie.modeling.loading.decoding_config", lambda *a, **k: None)
    answers = model_predictor(tmp_path, batch_size=3)(rows)

    assert answers == [f"answer-{n}" for n in lengths]
    assert batches == [[10, 11, 12], [290, 300, 310]]
