"""The label is exactly the printed text: fields, marks, boxes on ink; fonts and CLI errors."""

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from medvie.data.synth import DOC_TYPES, fonts, render_report
from medvie.errors import MedvieError

LAB = ("cbc", "biochemistry", "urinalysis", "lipid", "thyroid")


def _flat(label):
    out = {}
    for k, v in label.items():
        if k == "Indicators":
            for i, row in enumerate(v):
                for rk, rv in row.items():
                    out[f"Indicators.{i}.{rk}"] = rv
        else:
            out[k] = v
    return out


@pytest.mark.parametrize("preset", ["tiny", "full"])
def test_label_holds_exactly_the_printed_fields(preset):
    for language in ("en", "zh"):
        for doc_type in DOC_TYPES:
            rep = render_report(11, preset, language, doc_type)
            parts = {}
            for line in rep.meta["text_layer"]:
                if line["field"]:
                    parts.setdefault(line["field"], []).append(line["text"])
            joiner = "" if language == "zh" else " "
            printed = {k: joiner.join(v) for k, v in parts.items()}
            assert printed == _flat(rep.label), (preset, language, doc_type)
            assert "Name" in rep.label
            if doc_type in LAB:
                assert rep.label["Indicators"] and all("Result" in r for r in rep.label["Indicators"])
            else:
                assert {"Examination Description", "Diagnosis"} <= set(rep.label)


def _mark_expected(result, ref):
    """The mark a report must print for `result` against the printed reference range."""
    m = re.fullmatch(r"([\d.]+)\s*(?:-|--|~| - | to )\s*([\d.]+)", ref)
    if m:
        lo, hi, v = float(m[1]), float(m[2]), float(result)
        return "high" if v > hi else "low" if v < lo else ""
    if ref.startswith("<"):
        return "high" if float(result) >= float(ref[1:]) else ""
    if ref.startswith(">"):
        return "low" if float(result) <= float(ref[1:]) else ""
    return "" if result == ref else "high"  # qualitative: anything but the normal value is flagged


def test_abnormal_marks_match_every_range_kind():
    seen = set()
    for seed in range(14):
        for doc_type in LAB:
            language = ("en", "zh")[seed % 2]
            rep = render_report(seed, "full", language, doc_type)
            for row in rep.label["Indicators"]:
                if "Reference Range" not in row:  # a family may print flags without ranges
                    continue
                want = _mark_expected(row["Result"], row["Reference Range"])
                marks = {"↑": "high", "H": "high", "HIGH": "high", "↓": "low", "L": "low", "LOW": "low"}
                got = marks.get(row.get("Abnormal Mark", ""), "")
                if row.get("Abnormal Mark") == "*":  # one mark for both directions
                    got, want = "abnormal", "abnormal" if want else ""
                assert got == want, (doc_type, row)
                seen.add((row["Reference Range"][0] in "<>", want))
    assert {(False, "high"), (False, "low"), (False, ""), (True, "high"), (True, "")} <= seen


def test_boxes_sit_on_printed_ink():
    for seed in range(6):
        for preset in ("tiny", "full"):
            rep = render_report(seed, preset, ("en", "zh")[seed % 2])
            gray = np.asarray(rep.image.convert("L"))
            for line in rep.meta["text_layer"]:
                x0, y0, x1, y1 = line["box"]
                assert gray[y0:y1, x0:x1].min() < 150, (preset, seed, line)


def test_tiny_pages_are_small_with_large_text_and_few_rows():
    for seed in range(20):
        rep = render_report(seed, "tiny", ("en", "zh")[seed % 2])
        assert rep.image.width == 448 and 196 <= rep.image.height <= 448 and rep.image.height % 28 == 0
        assert rep.meta["font_size"] >= 20
        assert len(rep.label.get("Indicators", [])) <= 4
    full = render_report(0, "full", "en", "cbc")
    assert full.image.size == (1000, 1400) and 5 <= len(full.label["Indicators"]) <= 15


def test_missing_cjk_font_names_the_package(monkeypatch):
    latin_only = {
        k: v for k, v in fonts._font_files().items() if not k.lower().startswith(("wqy", "noto", "droid"))
    }
    monkeypatch.setattr(fonts, "_font_files", lambda: latin_only)
    fonts.families.cache_clear()
    try:
        with pytest.raises(MedvieError, match="apt-get install fonts-wqy-microhei") as err:
            render_report(0, "tiny", "zh")
        assert "\n" not in str(err.value)
        assert render_report(0, "tiny", "en").label  # Latin still renders
    finally:
        fonts.families.cache_clear()


def test_cli_synth_writes_the_user_layout(tmp_path):
    from medvie.cli import app

    runner = CliRunner()
    assert "--preset" in runner.invoke(app, ["synth", "--help"]).output
    out = tmp_path / "syn"
    res = runner.invoke(app, ["synth", "--out", str(out), "--n", "3", "--languages", "zh", "--seed", "4"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (out / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["meta"]["language"] for r in rows] == ["zh"] * 3
    assert all((out / r["image"]).is_file() for r in rows)
    bad = runner.invoke(app, ["synth", "--out", str(tmp_path / "bad"), "--preset", "huge"])
    assert bad.exit_code != 0 and "preset" in str(bad.exception) and "'huge'" in str(bad.exception)


def test_wrapped_text_loses_no_words():
    from medvie.data.synth.narratives import IMAGING, PATHOLOGY

    known = {f.diag[z] for study in IMAGING + PATHOLOGY for f in study.findings for z in (0, 1)}
    for seed in range(12):
        for doc_type in ("imaging", "pathology"):
            rep = render_report(seed, "tiny", ("en", "zh")[seed % 2], doc_type)
            assert rep.label["Diagnosis"] in known, rep.label
