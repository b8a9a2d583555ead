"""Helpers of the data tests: tiny distinct images and user-layout folders written on the fly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

DOC_TYPES = ("cbc", "lipid", "thyroid")


def blocky_image(seed: int, size: tuple[int, int] = (96, 128)) -> Image.Image:
    """Random 8x8 colour blocks scaled up: every seed gives a perceptually distinct picture."""
    blocks = np.random.default_rng(seed).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    return Image.fromarray(blocks).resize(size, Image.Resampling.NEAREST)


def label(i: int) -> dict:
    return {
        "Name": f"Patient {i}",
        "Age": str(20 + i % 60),
        "Indicators": [{"Item Name": "WBC", "Result": f"{4 + i % 7}.1", "Unit": "10^9/L"}],
    }


def write_source(root: Path, n: int, *, start: int = 0, extra_lines: list[str] = ()) -> list[dict]:
    """A user-layout folder with `n` good JPEG records (ids r000..), plus raw extra lines."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(start, start + n):
        blocky_image(i).save(root / "images" / f"r{i:03d}.jpg", quality=90)
        rows.append(
            {
                "id": f"r{i:03d}",
                "image": f"images/r{i:03d}.jpg",
                "label": label(i),
                "doc_type": DOC_TYPES[i % len(DOC_TYPES)],
            }
        )
    lines = [json.dumps(r) for r in rows] + list(extra_lines)
    with (root / "labels.jsonl").open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return rows


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return tmp_path / "source"


@pytest.fixture(scope="session")
def data_helpers():
    """The helpers above (test modules cannot import conftest under --import-mode=importlib)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        blocky_image=blocky_image, write_source=write_source, label=label, doc_types=DOC_TYPES
    )
