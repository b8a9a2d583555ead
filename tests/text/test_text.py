import json
import shutil

import pytest
from PIL import Image, ImageDraw, ImageFont

from medvie.errors import DataError, MedvieError
from medvie.evaluation.config import EvaluateConfig
from medvie.queries.config import QueriesConfig
from medvie.text import ocr as ocr_mod
from medvie.text.config import TextConfig
from medvie.text.pipeline import records_needing_ocr, run_ocr_stage
from medvie.text.store import MANIFEST, format_hints, load_text, ocr_records

TSV = "\n".join(
    [
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
        "1\t1\t0\t0\t0\t0\t0\t0\t100\t50\t-1\t",
        "5\t1\t1\t1\t1\t1\t10\t5\t20\t8\t96\tName:",
        "5\t1\t1\t1\t1\t2\t35\t4\t25\t9\t91\tLi",
        "5\t1\t1\t1\t2\t1\t10\t20\t8\t8\t88\t白",
        "5\t1\t1\t1\t2\t2\t19\t20\t8\t8\t30\t细",
        "5\t1\t1\t1\t2\t3\t28\t20\t8\t8\t90\t胞",
        "5\t1\t1\t1\t2\t4\t40\t20\t10\t8\t90\t5.1",
    ]
)


def test_tesseract_tsv_groups_words_into_lines():
    lines = ocr_mod.parse_tesseract_tsv(TSV)
    assert lines == [
        {"text": "Name: Li", "box": [10, 4, 60, 13]},
        {"text": "白细胞 5.1", "box": [10, 20, 50, 28]},
    ]
    assert ocr_mod.parse_tesseract_tsv(TSV, min_confidence=50)[1]["text"] == "白胞 5.1"


def _rec(i, tmp_path, layer=True):
    path = tmp_path / f"p{i}.png"
    Image.new("RGB", (20, 20), "white").save(path)
    meta = {"text_layer": [{"text": f"line {i}", "box": [0, 0, 5, 5]}]} if layer else {}
    return {
        "id": f"p{i}",
        "sha256": f"{i:064x}",
        "image_path": str(path),
        "meta": meta,
        "width": 20,
        "height": 20,
    }


def test_ocr_cache_reuses_prunes_and_load_text_prefers_it(tmp_path, monkeypatch):
    calls = []

    def fake(image, cfg):
        calls.append(image)
        return [{"text": "ocr " + str(image)[-6:], "box": [1, 2, 3, 4]}]

    monkeypatch.setattr(ocr_mod, "run_ocr", fake)
    monkeypatch.setattr(ocr_mod, "check_engine", lambda cfg: None)
    recs = [_rec(i, tmp_path) for i in range(3)]
    out = tmp_path / "text"
    m = ocr_records(recs, out, TextConfig())
    assert (m["images"], m["ocr_run"], m["reused"]) == (3, 3, 0)
    m = ocr_records(recs[:2], out, TextConfig())
    assert (m["ocr_run"], m["reused"]) == (0, 2) and len(calls) == 3
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, f"{0:064x}.json", f"{1:064x}.json"])
    m = ocr_records(recs[:1], out, TextConfig(languages=["eng"]))  # other settings: redone
    assert m["ocr_run"] == 1
    assert load_text(recs[0], out)[0]["text"].startswith("ocr ")
    assert load_text(recs[2], out) == [{"text": "line 2", "box": [0, 0, 5, 5]}]  # falls back to the layer
    assert load_text(recs[0], out, source="layer")[0]["text"] == "line 0"
    with pytest.raises(DataError, match="no OCR output"):
        load_text(recs[2], out, source="ocr")
    with pytest.raises(DataError, match="no text layer"):
        load_text(_rec(9, tmp_path, layer=False))
    ocr_records([], out, TextConfig())
    assert [p.name for p in out.iterdir()] == [MANIFEST]


def test_ocr_stage_is_empty_and_fast_when_not_needed(tmp_path):
    m = run_ocr_stage(
        TextConfig(),
        QueriesConfig(text_hints="off"),
        EvaluateConfig(baselines=[]),
        records=tmp_path / "missing",
        selected=tmp_path / "missing.jsonl",
        out=tmp_path / "text",
    )
    assert m["images"] == 0 and json.loads((tmp_path / "text" / MANIFEST).read_text())["images"] == 0


def test_missing_engine_names_the_package(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(MedvieError, match="apt-get install tesseract-ocr"):
        ocr_mod.check_engine(TextConfig())


def test_hints_keep_order_positions_and_say_what_was_left_out():
    lines = [
        {"text": "  Name:  Li ", "box": [10, 50, 30, 60]},
        {"text": "Age 4", "box": [0, 0, 1, 1]},
        {"text": "tail", "box": None},
    ]
    text = format_hints(lines, width=100, height=200, positions=True, max_lines=2)
    assert text.splitlines()[1:4] == ["(10,25) Name: Li", "(0,0) Age 4", "(1 more lines not shown)"]
    assert "Name: Li\nAge 4\ntail" in format_hints(lines)


def test_tesseract_reads_a_rendered_line(tmp_path):
    # `make test` installs tesseract-ocr (Makefile APT_PACKAGES), so the real engine is always tested
    im = Image.new("RGB", (360, 60), "white")
    font = ImageFont.load_default(size=28)
    ImageDraw.Draw(im).text((10, 12), "Glucose 5.4 mmol", fill="black", font=font)
    im.save(tmp_path / "t.png")
    lines = ocr_mod.run_ocr(tmp_path / "t.png", TextConfig(languages=["eng"]))
    assert "Glucose" in " ".join(ln["text"] for ln in lines)
    assert all(len(ln["box"]) == 4 for ln in lines)


def test_ocr_baseline_auto_picks_only_records_without_a_text_layer(tmp_path):
    recs = [
        dict(_rec(i, tmp_path, layer=i % 2 == 0), split=["train", "val", "test"][i % 3]) for i in range(9)
    ]
    selected = [r for r in recs if r["split"] == "train"]
    need, _ = records_needing_ocr(recs, selected, TextConfig(), QueriesConfig(), baseline=True)
    assert {r["id"] for r in need} == {"p1", "p5", "p7"}  # val/test without a text layer
    need, _ = records_needing_ocr(recs, selected, TextConfig(), QueriesConfig(), baseline=False)
    assert need == []
    need, _ = records_needing_ocr(recs, selected, TextConfig(for_baseline="always"), QueriesConfig())
    assert {r["split"] for r in need} == {"val", "test"} and len(need) == 6
    need, why = records_needing_ocr(
        recs, selected, TextConfig(for_baseline="never"), QueriesConfig(text_hints="ocr")
    )
    assert len(need) == 9 and "text_hints=ocr" in why
