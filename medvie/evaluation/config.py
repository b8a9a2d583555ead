"""params.yaml section `evaluate`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from medvie.config_base import Section
from medvie.paths import INGESTED, TEST_QUERIES, TEXT


class EvaluateConfig(Section):
    queries: str = Field(TEST_QUERIES, description="query file evaluated (both strategies)")
    models: list[str] = Field(
        ["base", "warmstart", "grpo"],
        description="model names evaluated, each a directory models/<name>; a missing one is skipped",
    )
    baselines: list[Literal["ocr_baseline"]] = Field(
        ["ocr_baseline"], description="non-model baselines: ocr_baseline = OCR text + rule-based reader"
    )
    records: str = Field(INGESTED, description="ingested records (the OCR baseline finds text by record)")
    text_dir: str = Field(TEXT, description="OCR / text-layer output read by the OCR baseline")
    max_new_tokens: int = Field(512, ge=1, le=32768)
    batch_size: int = Field(8, ge=1, description="queries per generate call")
    max_queries: int = Field(0, ge=0, description="evaluate at most this many queries (0: all)")
    worst_cases: int = Field(8, ge=0, description="worst queries per model shown in reports/eval.md")
    thumb_side: int = Field(192, ge=32, le=1024, description="longer side of report thumbnails (px)")
    device: str = Field("cpu", description="torch device for generation")
