"""What the evaluation tests share: small pages that print a name."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw


@pytest.fixture
def name_rows(tmp_path):
    """`make(texts)`: one evaluation row per prompt text, each on a page printing `Name: P<i>`."""

    def make(texts: list[str]) -> list[dict]:
        rows = []
        for i, text in enumerate(texts):
            path = tmp_path / f"{i}.png"
            img = Image.new("RGB", (112, 84), "white")
            ImageDraw.Draw(img).text((4, 4 + 10 * i), f"Name: P{i}", fill="black")
            img.save(path)
            prompt = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]
            rows.append(
                {"image_path": str(path), "prompt": prompt, "truth": {"name": f"P{i}"}, "keys": ["name"]}
            )
        return rows

    return make
