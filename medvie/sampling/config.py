"""params.yaml section `sampling`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from medvie.config_base import Section


class FeatureWeights(Section):
    """Relative weight of each feature group after per-group standardisation (0 drops a group)."""

    layout: float = Field(
        1.0, ge=0, description="ink-density row/column profiles, aspect, brightness, contrast"
    )
    thumbnail: float = Field(1.0, ge=0, description="small grey thumbnail")
    phash: float = Field(0.5, ge=0, description="perceptual hash bits")
    label: float = Field(1.0, ge=0, description="keys present, indicator row count, text length, script")
    meta: float = Field(
        1.0, ge=0, description="language, layout, font, capture conditions (when the source has them)"
    )
    doc_type: float = Field(1.0, ge=0, description="report type one-hot")


class SamplingConfig(Section):
    n: int = Field(100, ge=1, description="training records to select")
    strategy: Literal["diverse", "random"] = Field(
        "diverse", description="diverse: k-center greedy on standardised features; random: uniform (ablation)"
    )
    seed: int = 0
    stratify: bool = Field(
        True, description="diverse only: balanced quota per doc type, then farthest-point inside"
    )
    split: Literal["train", "val", "test"] = Field("train", description="split the pool is drawn from")
    thumb_size: int = Field(16, ge=4, le=64, description="side of the grey thumbnail feature")
    profile_bins: int = Field(32, ge=4, le=256, description="bins of the row/column ink-density profiles")
    weights: FeatureWeights = FeatureWeights()
