"""Tiny ingested-format records (PNG images, labels in the medical schema) written to a tmp folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

LABELS = [
    {
        "Name": "Li Wei",
        "Gender": "Male",
        "Age": "45",
        "Department": "Hematology",
        "Indicators": [
            {
                "Item Name": "WBC",
                "Result": "11.2",
                "Unit": "10^9/L",
                "Reference Range": "3.5-9.5",
                "Abnormal Mark": "↑",
            },
            {"Item Name": "HGB", "Result": "130", "Unit": "g/L", "Reference Range": "130-175"},
        ],
    },
    {
        "Name": "王芳",
        "Age": "61",
        "Examination Site": "胸部",
        "Examination Description": "双肺纹理清晰",
        "Diagnosis": "未见异常",
    },
    {"Name": "Ann Lee", "Diagnosis": "benign", "Treatment Recommendations": "follow up", "Others": "none"},
]


def build(root: Path, n: int = 9) -> list[dict]:
    (root / "images").mkdir(parents=True, exist_ok=True)
    records = []
    for i in range(n):
        rel = f"images/q{i}.png"
        Image.new("RGB", (32, 40), (255, 255 - 20 * i % 255, 255)).save(root / rel)
        label = LABELS[i % len(LABELS)]
        records.append(
            {
                "id": f"q{i}",
                "image": rel,
                "label": label,
                "doc_type": ["cbc", "imaging", "pathology"][i % 3],
                "split": ["train", "val", "test"][(i // 3) % 3],
                "sha256": f"{i:064x}",
                "width": 32,
                "height": 40,
                "meta": {
                    "language": "zh" if i % 3 == 1 else "en",
                    "text_layer": [{"text": f"Name: {label['Name']}", "box": [2, 3, 20, 8]}],
                },
            }
        )
    with (root / "records.jsonl").open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    for rec in records:
        rec["image_path"] = str(root / rec["image"])
    return records


@pytest.fixture
def ingested(tmp_path: Path) -> tuple[Path, list[dict]]:
    root = tmp_path / "data" / "ingested"
    return root, build(root)
