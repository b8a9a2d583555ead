"""params.yaml section `evaluate`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from medvie.config_base import Section
from medvie.paths import INGESTED, TEST_QUERIES, TEXT


class GenerationSettings(Section):
    """How evaluation (and serving, which reuses its predictor) decodes. Every value is explicit, so a
    checkpoint's generation_config.json (Qwen ships repetition_penalty 1.05 and sampling) never takes part;
    the defaults are greedy decoding, transformers' global defaults."""

    do_sample: bool = Field(False, description="false: greedy (the scores compare models, not samples)")
    temperature: float = Field(1.0, gt=0, description="sampling only")
    top_p: float = Field(1.0, gt=0, le=1, description="sampling only")
    top_k: int = Field(50, ge=0, description="sampling only; 0: off")
    repetition_penalty: float = Field(1.0, gt=0, description="1.0: none; applied in greedy decoding too")
    num_beams: int = Field(1, ge=1, description="1: no beam search")

    def as_kwargs(self) -> dict[str, Any]:
        """The transformers GenerationConfig fields, by their names there."""
        return self.model_dump()


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
    workers: int = Field(
        1, ge=1, description="processes the models answer in at once (CPU cores; 1 on a GPU)"
    )
    max_queries: int = Field(0, ge=0, description="evaluate at most this many queries (0: all)")
    worst_cases: int = Field(8, ge=0, description="worst queries per model shown in reports/eval.md")
    thumb_side: int = Field(192, ge=32, le=1024, description="longer side of report thumbnails (px)")
    device: str = Field(
        "cpu",
        description="torch device for generation: cpu, cuda, cuda:N, or auto (device_map over the GPUs)",
    )
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto",
        description="weights dtype of the evaluated models; auto: float32 on CPU, the checkpoint's on GPU",
    )
    generation: GenerationSettings = Field(
        GenerationSettings(), description="decoding settings; the checkpoint's generation_config is not used"
    )
