"""Serving's request handling without a model: keys, languages, text lines sent, recipes of old versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from medvie.errors import DataError
from medvie.queries.config import QueriesConfig
from medvie.queries.schema import load_schema
from medvie.registry.pyfunc_model import input_rows
from medvie.registry.recipe import Generation, ImageBounds, Recipe
from medvie.registry.service import Extractor, asked_keys, parse_keys

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "medical.json"


def recipe(**queries) -> Recipe:
    base = QueriesConfig(text_hints="layer")
    return Recipe(
        queries={
            k: getattr(base, k)
            for k in (
                "thinking",
                "text_hints",
                "hint_positions",
                "hint_max_lines",
                "key_language",
                "key_aliases",
            )
        }
        | queries,
        text={"engine": "tesseract", "languages": ["eng"], "psm": 3, "min_confidence": 0.0, "timeout_s": 60},
        image=ImageBounds(max_side=64, max_pixels=1_000_000),
        generation=Generation(max_new_tokens=4, batch_size=2),
        schema=json.loads(SCHEMA.read_text(encoding="utf-8")),
    )


def echo(rows):
    """A predictor that answers with the prompt's last line: what generation was asked."""
    return [r["prompt"][0]["content"][1]["text"].splitlines()[-1] for r in rows]


@pytest.fixture
def page(tmp_path) -> str:
    path = tmp_path / "page.png"
    Image.new("RGB", (128, 96), "white").save(path)
    return str(path)


def test_keys_are_asked_in_schema_order_with_row_fields():
    schema = load_schema(SCHEMA)
    assert parse_keys(" ") is None and parse_keys(float("nan")) is None
    assert parse_keys("Age, Name") == ["Age", "Name"]
    assert asked_keys(schema, "Age,Name") == {"Name": None, "Age": None}
    asked = asked_keys(schema, '{"Indicators": ["Unit", "Item Name"], "Age": null}')
    assert asked == {"Age": None, "Indicators": ["Item Name", "Unit"]}
    assert asked_keys(schema, None) == dict.fromkeys(schema.key_names)
    with pytest.raises(DataError, match="cannot be asked"):
        asked_keys(schema, {"Indicators": ["Colour"]})
    with pytest.raises(DataError, match="not valid JSON"):
        asked_keys(schema, "{Age")


def test_brought_text_lines_head_the_prompt_in_the_page_language(page, tmp_path):
    ex = Extractor(echo, recipe(key_language="auto", hint_positions=True))
    lines = [{"text": "姓名 王芳 年龄 61", "box": [64, 48, 120, 60]}]
    zh = ex.query({"image": page, "text_lines": lines, "keys": "Name"}, tmp_path / "zh")
    text = zh["prompt"][0]["content"][1]["text"]
    assert zh["language"] == "zh" and "(50,50) 姓名 王芳 年龄 61" in text and '"姓名"' in text
    en = ex.query({"image": page, "text_lines": json.dumps(lines), "language": "en"}, tmp_path / "en")
    assert en["language"] == "en" and '"Name"' in en["prompt"][0]["content"][1]["text"]
    with Image.open(en["image_path"]) as im:
        assert im.size == (64, 48)  # bounded like ingest: longer side data.max_image_side


def test_a_batch_keeps_its_order_and_its_bad_items_apart(page):
    ex = Extractor(echo, recipe(text_hints="off"))
    out = ex.extract([{"image": page}, {"image": "missing.png"}, {"image": page, "keys": ["Nope"]}])
    assert out[0]["raw"].endswith("the final answer is JSON.") and out[0]["error"]
    assert "file not found" in out[1]["error"] and "Nope" in out[2]["error"]
    rows = input_rows({"image": [page, page], "keys": ["Name", None], "language": ["en", "zh"]})
    assert rows == [
        {"image": page, "keys": "Name", "language": "en"},
        {"image": page, "keys": None, "language": "zh"},
    ]


def test_versions_registered_before_recipes_keep_their_prompts(page, tmp_path):
    old = Recipe.legacy({"thinking": False, "key_language": "auto", "max_new_tokens": 9}, SCHEMA)
    assert old.image is None and not old.ocr and old.generation.max_new_tokens == 9
    q = Extractor(echo, old).query({"image": page, "keys": "Name"}, tmp_path / "q")
    text = q["prompt"][0]["content"][1]["text"]
    assert q["language"] == "en" and text.startswith("Extract the following keys") and "<think>" not in text
    with Image.open(q["image_path"]) as im:
        assert im.size == (128, 96)  # as sent
