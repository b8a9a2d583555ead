"""OCR engines → text lines `[{"text", "box": [x0, y0, x1, y1]}]` in reading order,
in image pixel coordinates."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

from medvie.errors import MedvieError
from medvie.text.config import TextConfig

_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
TESSERACT_APT = "apt-get install tesseract-ocr tesseract-ocr-chi-sim"


def join_words(words: list[str]) -> str:
    """Join OCR words with spaces, except between CJK characters (tesseract splits Chinese per glyph)."""
    out = ""
    for word in words:
        if out and not (_CJK.match(out[-1]) and _CJK.match(word[0])):
            out += " "
        out += word
    return out


def parse_tesseract_tsv(tsv: str, min_confidence: float = 0.0) -> list[dict[str, Any]]:
    """Group tesseract's word rows (level 5) into lines keyed by (page, block, paragraph, line)."""
    lines: dict[tuple[int, ...], dict[str, Any]] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") != "5" or not (row.get("text") or "").strip():
            continue
        if float(row.get("conf") or -1) < min_confidence:
            continue
        key = tuple(int(row[k]) for k in ("page_num", "block_num", "par_num", "line_num"))
        x0, y0 = int(row["left"]), int(row["top"])
        x1, y1 = x0 + int(row["width"]), y0 + int(row["height"])
        line = lines.setdefault(key, {"words": [], "box": [x0, y0, x1, y1]})
        line["words"].append(row["text"].strip())
        b = line["box"]
        line["box"] = [min(b[0], x0), min(b[1], y0), max(b[2], x1), max(b[3], y1)]
    return [{"text": join_words(v["words"]), "box": v["box"]} for _, v in sorted(lines.items())]


@lru_cache(maxsize=1)
def _tesseract_languages(binary: str) -> frozenset[str]:
    done = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=60)
    return frozenset(line.strip() for line in done.stdout.splitlines()[1:] if line.strip())


def tesseract_binary(languages: list[str]) -> str:
    """The tesseract executable, after checking it and its language packs exist."""
    binary = shutil.which("tesseract")
    if binary is None:
        raise MedvieError(
            f"OCR engine tesseract not found; install it ({TESSERACT_APT}) or set text.engine: rapidocr"
        )
    missing = [lang for lang in languages if lang not in _tesseract_languages(binary)]
    if missing:
        pkgs = " ".join(f"tesseract-ocr-{m.replace('_', '-').lower()}" for m in missing)
        raise MedvieError(
            f"tesseract lacks language pack(s) {', '.join(missing)} (text.languages); apt-get install {pkgs}"
        )
    return binary


def ocr_tesseract(image: str | Path, cfg: TextConfig) -> list[dict[str, Any]]:
    binary = tesseract_binary(cfg.languages)
    cmd = [binary, str(image), "stdout", "-l", "+".join(cfg.languages), "--psm", str(cfg.psm), "tsv"]
    try:
        # tesseract's own OpenMP threads made small pages 3x slower in wall time on a loaded machine
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=cfg.timeout_s, env=env)
    except subprocess.TimeoutExpired:
        raise MedvieError(f"{image}: tesseract took longer than text.timeout_s={cfg.timeout_s}s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise MedvieError(f"{image}: tesseract failed ({last})")
    return parse_tesseract_tsv(done.stdout, cfg.min_confidence)


@lru_cache(maxsize=1)
def _rapidocr_engine():
    try:
        from rapidocr import RapidOCR
    except ImportError:
        raise MedvieError(
            "OCR engine rapidocr not installed; pip install rapidocr onnxruntime "
            "(or set text.engine: tesseract)"
        ) from None
    return RapidOCR()


def ocr_rapidocr(image: str | Path, cfg: TextConfig) -> list[dict[str, Any]]:
    result = _rapidocr_engine()(str(image))
    lines = []
    for box, text, score in zip(
        result.boxes if result.boxes is not None else [],
        result.txts or [],
        result.scores or [],
        strict=False,  # a result without boxes has no texts or scores either
    ):
        if 100 * float(score) < cfg.min_confidence or not text.strip():
            continue
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        lines.append({"text": text.strip(), "box": [int(min(xs)), int(min(ys)), int(max(xs)), int(max(ys))]})
    return lines


def check_engine(cfg: TextConfig) -> None:
    """Fail early, with the install hint, when the configured engine is missing."""
    if cfg.engine == "tesseract":
        tesseract_binary(cfg.languages)
    else:
        _rapidocr_engine()


def run_ocr(image: str | Path, cfg: TextConfig) -> list[dict[str, Any]]:
    """The page's text lines with the configured engine."""
    return ocr_tesseract(image, cfg) if cfg.engine == "tesseract" else ocr_rapidocr(image, cfg)
