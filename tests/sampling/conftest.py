"""A planted, imbalanced pool of tiny ingested-format records with real PNG images."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

OTHER_TYPES = ["biochemistry", "urinalysis", "lipid", "thyroid", "imaging", "pathology"]


def _image(path: Path, doc_type: str, rng: random.Random) -> None:
    im = Image.new("RGB", (48, 64), "white")
    draw = ImageDraw.Draw(im)
    if doc_type in ("imaging", "pathology"):  # prose pages: long lines
        for y in range(6, 60, 6):
            draw.line((4, y, rng.randint(30, 44), y), fill="black")
    else:  # tables: short cells
        for y in range(6, 6 + 6 * rng.randint(3, 9), 6):
            for x in (4, 18, 32):
                draw.line((x, y, x + rng.randint(4, 10), y), fill="black")
    im.save(path)


def make_pool(root: Path, n_main: int = 96, n_each_other: int = 4, seed: int = 0) -> list[dict]:
    """80 % cbc, the rest spread over six other types; all in the train split."""
    rng = random.Random(seed)
    types = ["cbc"] * n_main + [t for t in OTHER_TYPES for _ in range(n_each_other)]
    (root / "images").mkdir(parents=True, exist_ok=True)
    records = []
    for i, doc_type in enumerate(types):
        rel = f"images/r{i}.png"
        _image(root / rel, doc_type, rng)
        label = {"Name": f"P{i}", "Age": str(rng.randint(1, 90))}
        if doc_type in ("imaging", "pathology"):
            label["Diagnosis"] = "normal"
        else:
            label["Indicators"] = [{"Item Name": f"I{k}", "Result": "1"} for k in range(rng.randint(1, 6))]
        records.append(
            {
                "id": f"r{i}",
                "image": rel,
                "image_path": str(root / rel),
                "label": label,
                "doc_type": doc_type,
                "split": "train",
                "sha256": f"{i:064x}",
                "width": 48,
                "height": 64,
                "meta": {
                    "language": rng.choice(["en", "zh"]),
                    "capture": {"crease": rng.choice([0, 0.5]), "background": rng.choice(["desk", "cloth"])},
                },
            }
        )
    return records


def write_ingested(root: Path, records: list[dict]) -> Path:
    with (root / "records.jsonl").open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps({k: v for k, v in rec.items() if k != "image_path"}) + "\n")
    return root


@pytest.fixture
def pool(tmp_path: Path) -> list[dict]:
    return make_pool(tmp_path / "ingested")


@pytest.fixture
def ingested(tmp_path: Path, pool: list[dict]) -> Path:
    return write_ingested(tmp_path / "ingested", pool)
