"""The synthetic generator: determinism, labels that match what is printed, the user layout."""

import io
import json
import re

import pytest

from medvie.data.synth import DOC_TYPES, render_report, write_dataset
from medvie.errors import ConfigError

ROW_FIELDS = {"Item Name", "Result", "Unit", "Reference Range", "Abnormal Mark"}


def _png(img):
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _leaves(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _leaves(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _leaves(v)
    else:
        yield obj


@pytest.mark.parametrize("preset", ["tiny", "full"])
def test_same_seed_same_pixels_and_label(preset):
    a, b = render_report(5, preset, "en"), render_report(5, preset, "en")
    assert _png(a.image) == _png(b.image)
    assert a.label == b.label and a.meta == b.meta
    c = render_report(6, preset, "en")
    assert _png(c.image) != _png(a.image)


def test_every_doc_type_and_language_renders_with_consistent_labels():
    for language in ("en", "zh"):
        for doc_type in DOC_TYPES:
            for seed in range(3):
                rep = render_report(seed, "tiny", language, doc_type)
                assert rep.doc_type == doc_type and rep.meta["language"] == language
                # long values wrap over lines, so compare without white space
                printed = "".join(line["text"] for line in rep.meta["text_layer"]).replace(" ", "")
                for value in _leaves(rep.label):
                    assert isinstance(value, str) and value
                    assert value.replace(" ", "") in printed, (doc_type, language, seed, value)
                for row in rep.label.get("Indicators", []):
                    assert set(row) <= ROW_FIELDS and "Item Name" in row


def _numbers(text):
    return [float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)]


def test_abnormal_marks_agree_with_value_and_range():
    checked = 0
    for seed in range(30):
        rep = render_report(seed, "full", "en", "biochemistry")
        for row in rep.label.get("Indicators", []):
            rng, result = row.get("Reference Range", ""), row.get("Result", "")
            bounds, value = _numbers(rng), _numbers(result)
            if len(bounds) != 2 or len(value) != 1 or not re.fullmatch(r"[\d.]+\s*-\s*[\d.]+", rng.strip()):
                continue
            lo, hi = bounds
            mark = row.get("Abnormal Mark", "")
            if value[0] > hi:  # every family's high / low marks
                assert mark in ("↑", "H", "HIGH", "*"), row
            elif value[0] < lo:
                assert mark in ("↓", "L", "LOW", "*"), row
            else:
                assert mark == "", row
            checked += 1
    assert checked > 50


def test_text_layer_boxes_lie_inside_the_image():
    for seed in range(10):
        rep = render_report(seed, "full" if seed % 2 else "tiny", "zh" if seed % 3 == 0 else "en")
        w, h = rep.image.size
        assert (rep.meta["width"], rep.meta["height"]) == (w, h)
        assert rep.meta["text_layer"]
        for line in rep.meta["text_layer"]:
            x0, y0, x1, y1 = line["box"]
            assert -2 <= x0 < x1 <= w + 2 and -2 <= y0 < y1 <= h + 2, line


def test_write_dataset_writes_the_user_layout(tmp_path):
    out = write_dataset(tmp_path / "synthetic", n=16, seed=1, preset="tiny", languages=("en", "zh"))
    rows = [json.loads(line) for line in (out / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 16 and len({r["id"] for r in rows}) == 16
    assert {r["doc_type"] for r in rows} == set(DOC_TYPES)
    assert {r["meta"]["language"] for r in rows} == {"en", "zh"}
    for r in rows:
        assert (out / r["image"]).stat().st_size > 0
        assert isinstance(r["label"], dict) and r["label"]
    again = write_dataset(tmp_path / "again", n=16, seed=1, preset="tiny", languages=("en", "zh"))
    assert (again / "labels.jsonl").read_bytes() == (out / "labels.jsonl").read_bytes()


def test_unknown_preset_or_language_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="preset 'huge'"):
        render_report(0, "huge")
    with pytest.raises(ConfigError, match="language 'fr'"):
        write_dataset(tmp_path / "x", n=2, seed=0, languages=("fr",))
    assert not (tmp_path / "x").exists()
