"""Ingestion: rejections with reasons, EXIF orientation, bounded size, atomic output."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from medvie.data.config import DataConfig
from medvie.data.ingest import ingest
from medvie.data.records import load_records
from medvie.errors import DataError

LENIENT = DataConfig(max_reject_share=1.0, max_image_pixels=100_000)


def _broken_folder(source: Path, h) -> dict[str, str]:
    """20 good records plus one bad record per rejection reason; returns id -> expected code."""
    rows = h.write_source(source, 20)
    img = source / "images"
    good_png = io.BytesIO()
    h.blocky_image(99).save(good_png, "PNG")
    data = good_png.getvalue()
    # corrupt: a valid header with a damaged compressed stream
    (img / "corrupt.png").write_bytes(data[:60] + bytes(b ^ 0x5A for b in data[60:-20]) + data[-20:])
    jpg = (img / "r000.jpg").read_bytes()
    (img / "truncated.jpg").write_bytes(jpg[: len(jpg) // 2])
    (img / "empty.png").write_bytes(b"")
    h.blocky_image(1, (400, 400)).save(img / "bomb.png")  # 160k px: between 1x and 2x of the limit
    h.blocky_image(2, (700, 700)).save(img / "bomb2.png")  # beyond 2x: Pillow's own error
    h.blocky_image(3).save(img / "anim.gif")
    (img / "notes.jpg").write_text("not an image at all")
    (source.parent / "outside.png").write_bytes(data)

    def rec(rid, image, lab=None):
        return json.dumps({"id": rid, "image": image, "label": lab or {"Name": "x"}})

    bad = {
        "corrupt": ("images/corrupt.png", "corrupt_image"),
        "truncated": ("images/truncated.jpg", "truncated_image"),
        "empty": ("images/empty.png", "empty_file"),
        "bomb": ("images/bomb.png", "decompression_bomb"),
        "bomb2": ("images/bomb2.png", "decompression_bomb"),
        "gif": ("images/anim.gif", "unsupported_format"),
        "notes": ("images/notes.jpg", "unsupported_format"),
        "escape": ("../outside.png", "unsafe_path"),
        "absolute": (str(source.parent / "outside.png"), "unsafe_path"),
        "missing": ("images/nope.jpg", "missing_file"),
    }
    lines = [rec(rid, image) for rid, (image, _) in bad.items()]
    lines += [
        '{"id": "broken", "image": ',  # invalid JSON
        rec(rows[0]["id"], "images/r001.jpg"),  # duplicate id
        json.dumps({"id": "listlabel", "image": "images/r001.jpg", "label": ["a"]}),
        json.dumps({"id": "emptylabel", "image": "images/r001.jpg", "label": {}}),
        json.dumps({"image": "images/r001.jpg", "label": {"Name": "x"}}),
        json.dumps({"id": "noimage", "label": {"Name": "x"}}),
    ]
    with (source / "labels.jsonl").open("a") as fh:
        fh.write("\n".join(lines) + "\n")
    expected = {rid: code for rid, (_, code) in bad.items()}
    expected.update(
        {"listlabel": "invalid_record", "emptylabel": "invalid_record", "noimage": "invalid_record"}
    )
    return expected


def test_each_bad_input_is_rejected_with_its_reason_and_good_records_kept(tmp_path, source, data_helpers):
    expected = _broken_folder(source, data_helpers)
    out = tmp_path / "ingested"
    summary = ingest(source, out, LENIENT)

    rejected = [json.loads(line) for line in (out / "rejected.jsonl").read_text().splitlines()]
    by_id = {r["id"]: r["code"] for r in rejected if r["id"] not in (None, "r000")}
    assert by_id == expected
    codes = [r["code"] for r in rejected]
    assert codes.count("invalid_json") == 1 and codes.count("duplicate_id") == 1
    assert sum(1 for r in rejected if r["id"] is None and r["code"] == "invalid_record") == 1  # missing id
    for r in rejected:
        assert "\n" not in r["reason"] and r["reason"].startswith(f"line {r['line']}")
    records = load_records(out)
    assert sorted(r["id"] for r in records) == [f"r{i:03d}" for i in range(20)]
    assert all(Path(r["image_path"]).is_file() for r in records)
    assert summary["n_kept"] == 20 and summary["n_rejected"] == len(rejected) == 16
    assert summary["rejections"]["unsafe_path"] == 2
    with Image.open(records[0]["image_path"]) as im:
        assert im.format == "PNG" and im.mode == "RGB"


def test_too_many_rejects_fail_in_one_line_and_keep_previous_output(tmp_path, source, data_helpers):
    data_helpers.write_source(source, 20)
    out = tmp_path / "data" / "ingested"
    ingest(source, out, DataConfig())
    before = (out / "records.jsonl").read_bytes()

    lines = "\n".join(
        json.dumps({"id": f"gone{i}", "image": f"images/gone{i}.png", "label": {"A": "b"}}) for i in range(3)
    )
    with (source / "labels.jsonl").open("a") as fh:
        fh.write(lines + "\n")
    env = {k: v for k, v in os.environ.items() if k != "MEDVIE_ROOT"}
    proc = subprocess.run(
        [sys.executable, "-m", "medvie", "ingest", "--source", str(source), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in proc.stderr
    assert "3 of 23 records rejected" in err and "max_reject_share" in err
    assert (out / "records.jsonl").read_bytes() == before
    kept_list = out.with_name("ingested.rejected.jsonl")
    assert str(kept_list) in err
    assert len(kept_list.read_text().splitlines()) == 3
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".ingested")]  # no temp dirs left


def test_exif_orientation_is_applied(tmp_path, source):
    (source / "images").mkdir(parents=True)
    im = Image.new("RGB", (80, 120), "white")
    im.paste((255, 0, 0), (0, 0, 20, 20))  # red square top-left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    im.save(source / "images" / "photo.jpg", exif=exif, quality=95)
    (source / "labels.jsonl").write_text(
        json.dumps({"id": "p", "image": "images/photo.jpg", "label": {"A": "b"}})
    )
    out = tmp_path / "out"
    ingest(source, out, DataConfig())
    [rec] = load_records(out)
    assert (rec["width"], rec["height"]) == (120, 80)
    assert rec["meta"]["exif_transposed"] is True
    with Image.open(rec["image_path"]) as got:
        r, g, b = got.getpixel((110, 8))  # the red square now sits top-right
        assert r > 200 and g < 60 and b < 60
        assert got.getpixel((8, 8))[1] > 200


def test_long_side_is_bounded_and_text_boxes_follow(tmp_path, source, data_helpers):
    (source / "images").mkdir(parents=True)
    data_helpers.blocky_image(5, (400, 200)).save(source / "images" / "wide.png")
    meta = {"width": 400, "height": 200, "text_layer": [{"text": "x", "box": [100, 50, 200, 100]}]}
    (source / "labels.jsonl").write_text(
        json.dumps({"id": "w", "image": "images/wide.png", "label": {"A": "b"}, "meta": meta})
    )
    out = tmp_path / "out"
    ingest(source, out, DataConfig(max_image_side=100))
    [rec] = load_records(out)
    assert (rec["width"], rec["height"]) == (100, 50)
    assert rec["meta"]["text_layer"][0]["box"] == [25, 12.5, 50, 25]
    assert (rec["meta"]["width"], rec["meta"]["height"]) == (100, 50)


def test_missing_labels_file_is_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="labels.jsonl: not found"):
        ingest(tmp_path / "nowhere", tmp_path / "out", DataConfig())


def test_unsafe_ids_get_safe_file_names(tmp_path, source, data_helpers):
    (source / "images").mkdir(parents=True)
    data_helpers.blocky_image(1).save(source / "images" / "a.png")
    ids = ("../evil", "a/b", "A", "a")
    lines = [json.dumps({"id": rid, "image": "images/a.png", "label": {"A": "b"}}) for rid in ids]
    (source / "labels.jsonl").write_text("\n".join(lines))
    out = tmp_path / "out"
    ingest(source, out, DataConfig())
    recs = load_records(out)
    assert len({r["image"] for r in recs}) == 4
    assert all(Path(r["image_path"]).parent == out.resolve() / "images" for r in recs)


def test_interrupted_run_leaves_previous_output(tmp_path, source, data_helpers, monkeypatch):
    import medvie.data.ingest as ingest_module

    data_helpers.write_source(source, 10)
    out = tmp_path / "ingested"
    ingest(source, out, DataConfig())
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    calls, real = [], ingest_module.normalise_image

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "normalise_image", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest(source, out, DataConfig())
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ingested", "source"]
