"""Per-image OCR cache (`<text_dir>/<sha256>.json`) and `load_text`, the one way to get a record's
text lines."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from medvie.errors import DataError
from medvie.io import read_json, write_json
from medvie.log import progress
from medvie.text.config import TextConfig

MANIFEST = "manifest.json"


def engine_signature(cfg: TextConfig) -> dict[str, Any]:
    """What an OCR output depends on besides the image; a cached file with another signature is redone."""
    return {
        "engine": cfg.engine,
        "languages": list(cfg.languages),
        "psm": cfg.psm,
        "min_confidence": cfg.min_confidence,
    }


def _sha(rec: dict[str, Any]) -> str:
    if not rec.get("sha256"):
        raise DataError(f"record {rec.get('id')!r}: no sha256; re-run ingest")
    return str(rec["sha256"])


def ocr_records(
    records: Sequence[dict[str, Any]],
    text_dir: str | os.PathLike[str],
    cfg: TextConfig,
    *,
    reason: str = "",
) -> dict[str, Any]:
    """OCR the records' images into `text_dir`, reusing files of the same engine settings.

    Files of images not in `records` are removed, so the directory is a function of its inputs (a DVC
    output). An empty `records` leaves just the manifest. Returns the manifest.
    """
    from medvie.text.ocr import check_engine, run_ocr

    text_dir = Path(text_dir)
    text_dir.mkdir(parents=True, exist_ok=True)
    wanted = {_sha(r): r for r in records}
    if wanted:
        check_engine(cfg)
    sig = engine_signature(cfg)
    todo = []
    for sha, rec in wanted.items():
        target = text_dir / f"{sha}.json"
        try:
            if target.exists() and read_json(target).get("settings") == sig:
                continue
        except DataError:
            pass  # unreadable cache entry: redo it
        todo.append((sha, rec))
    reused = len(wanted) - len(todo)

    def one(item: tuple[str, dict[str, Any]]) -> float:
        sha, rec = item
        t0 = time.perf_counter()
        lines = run_ocr(rec.get("image_path") or rec["image"], cfg)
        write_json(text_dir / f"{sha}.json", {"sha256": sha, "settings": sig, "lines": lines}, indent=None)
        return time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=cfg.workers) as pool:  # the engine runs out of process
        seconds = sum(progress(pool.map(one, todo), desc="ocr", total=len(todo), unit="page"))
    done = len(todo)
    for stale in text_dir.glob("*.json"):
        if stale.name != MANIFEST and stale.stem not in wanted:
            stale.unlink()
    manifest = {
        "reason": reason or ("none needed" if not wanted else ""),
        "settings": sig if wanted else None,
        "images": len(wanted),
        "ocr_run": done,
        "reused": reused,
        "seconds_per_page": round(seconds / done, 3) if done else None,
    }
    write_json(text_dir / MANIFEST, manifest)
    return manifest


def load_text(
    record: dict[str, Any],
    text_dir: str | os.PathLike[str] | None = None,
    source: Literal["auto", "ocr", "layer"] = "auto",
) -> list[dict[str, Any]]:
    """The record's text lines `[{"text", "box"}]` in reading order: OCR output or the text layer.

    `auto` prefers OCR output in `text_dir` and falls back to `meta.text_layer`.
    """
    if source in ("auto", "ocr") and text_dir is not None:
        path = Path(text_dir) / f"{_sha(record)}.json"
        if path.exists():
            return [{"text": ln["text"], "box": ln.get("box")} for ln in read_json(path)["lines"]]
        if source == "ocr":
            raise DataError(
                f"record {record.get('id')!r}: no OCR output {path}; run `medvie ocr` (dvc repro ocr) first"
            )
    if source == "ocr":
        raise DataError("load_text(source='ocr') needs text_dir (the ocr stage's output, data/text)")
    layer = (record.get("meta") or {}).get("text_layer")
    if isinstance(layer, list):
        return [
            {"text": str(ln.get("text", "")), "box": ln.get("box")} for ln in layer if isinstance(ln, dict)
        ]
    raise DataError(
        f"record {record.get('id')!r}: no text layer (meta.text_layer); use queries.text_hints: ocr"
        + ("" if text_dir is not None else " and run the ocr stage")
    )


def format_hints(
    lines: Sequence[dict[str, Any]],
    *,
    width: int | None = None,
    height: int | None = None,
    positions: bool = False,
    max_lines: int = 200,
    language: str = "en",
) -> str:
    """Text lines as a prompt block; with `positions`, each line starts with its (x%, y%) position."""
    rows = []
    for ln in lines[:max_lines]:
        text = " ".join(str(ln.get("text", "")).split())
        if not text:
            continue
        box = ln.get("box")
        if positions and box and width and height:
            text = f"({round(100 * box[0] / width)},{round(100 * box[1] / height)}) {text}"
        rows.append(text)
    left = len(lines) - min(len(lines), max_lines)
    if language == "zh":
        head = (
            "文档中识别出的文字（按阅读顺序，可能有误"
            + ("，括号内为左上角位置百分比" if positions else "")
            + "）：\n"
        )
        tail = f"\n（另有 {left} 行未列出）" if left else ""
    else:
        head = (
            "Text read from the document (reading order, may contain errors"
            + ("; (x,y) = top-left position in percent" if positions else "")
            + "):\n"
        )
        tail = f"\n({left} more lines not shown)" if left else ""
    return head + "\n".join(rows) + tail + "\n\n"
