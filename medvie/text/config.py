"""params.yaml section `text`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from medvie.config_base import Section


class TextConfig(Section):
    engine: Literal["tesseract", "rapidocr"] = Field(
        "tesseract",
        description="tesseract: Debian tesseract-ocr (~0.5 s/page); rapidocr: ONNX wheel (~3 s/page)",
    )
    languages: list[str] = Field(["eng", "chi_sim"], min_length=1, description="tesseract language packs")
    psm: int = Field(3, ge=0, le=13, description="tesseract page segmentation mode")
    min_confidence: float = Field(0.0, ge=0, le=100, description="drop OCR words below this confidence")
    for_baseline: Literal["auto", "always", "never"] = Field(
        "auto",
        description="OCR val/test for the OCR baseline: auto = records without a text layer, when "
        "evaluate.baselines has ocr_baseline; always = every val/test record (OCR instead of the text layer)",
    )
    timeout_s: int = Field(120, ge=1, description="per-page OCR time limit")
    workers: int = Field(1, ge=1, le=64, description="pages OCR'd at once (one engine process each)")
