"""params.yaml sections `data` and `validate`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from medvie.config_base import Section
from medvie.data.families import DEFAULT_HOLDOUT, FAMILY_NAMES


def _known_families(value: list[str]) -> list[str]:
    unknown = [f for f in value if f not in FAMILY_NAMES]
    if unknown:
        raise ValueError(f"unknown report family {unknown[0]!r}; use names from {', '.join(FAMILY_NAMES)}")
    return value


class SyntheticConfig(Section):
    n: int = Field(600, ge=1, description="number of synthetic reports to render")
    seed: int = 0
    preset: Literal["tiny", "full"] = Field(
        "tiny", description="tiny: small pages the CPU model can read; full: ~1000x1400 pages"
    )
    languages: list[Literal["en", "zh"]] = ["en", "zh"]
    families: list[str] = Field(
        default_factory=lambda: list(FAMILY_NAMES), description="report families drawn (medvie.data.families)"
    )

    @field_validator("families")
    @classmethod
    def _families(cls, value: list[str]) -> list[str]:
        return _known_families(value)


class SplitConfig(Section):
    train: float = Field(0.7, ge=0, le=1)
    val: float = Field(0.1, ge=0, le=1)
    test: float = Field(0.2, ge=0, le=1)
    salt: str = Field("medvie", description="salt of the id hash that assigns splits")

    @model_validator(mode="after")
    def _sum_to_one(self) -> SplitConfig:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + val + test must be 1, got {total:g}")
        return self


class DataConfig(Section):
    @field_validator("holdout_families")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [f for f in value if f not in FAMILY_NAMES]
        if unknown:
            raise ValueError(
                f"unknown report family {unknown[0]!r}; use names from {', '.join(FAMILY_NAMES)}"
            )
        return value

    source: str = Field(
        "data/synthetic",
        description="folder holding labels.jsonl + images (the synth stage writes data/synthetic)",
    )
    synthetic: SyntheticConfig = SyntheticConfig()
    holdout_families: list[str] = Field(
        default_factory=lambda: list(DEFAULT_HOLDOUT),
        description="synthetic report families kept out of training and pretraining; evaluation scores "
        "them apart (leave-family-out)",
    )
    split: SplitConfig = SplitConfig()
    max_reject_share: float = Field(0.05, ge=0, le=1, description="fail ingestion above this share")
    max_image_side: int = Field(1600, ge=64, description="longer side is downscaled to this")
    max_image_pixels: int = Field(60_000_000, ge=1, description="decompression-bomb guard")
    near_duplicate_distance: int = Field(
        4, ge=0, le=64, description="images within this phash Hamming distance share a split"
    )
    near_duplicate_confirm_distance: int | None = Field(
        16,
        ge=0,
        le=256,
        description="a 64-bit phash match also needs a 256-bit phash within this distance "
        "(null: no confirmation); "
        "64-bit phashes of different pages of one template are often within 4 bits; at 256 bits, "
        "re-encoded/resized copies of a page measured <= 12, distinct pages >= 20",
    )
    workers: int = Field(1, ge=1, le=64, description="threads decoding/encoding images")


class ValidateConfig(Section):
    min_side: int = Field(64, ge=1)
    max_side: int = Field(4096, ge=1)
    split_tolerance: float = Field(
        0.1,
        ge=0,
        le=1,
        description="allowed deviation of split shares (widened to 3 binomial sigma for small data sets)",
    )
    schema_path: str = Field(
        "schemas/medical.json", description="label keys are checked against it when the file exists"
    )

    @model_validator(mode="after")
    def _sides_ordered(self) -> ValidateConfig:
        if self.min_side > self.max_side:
            raise ValueError(f"min_side ({self.min_side}) must not exceed max_side ({self.max_side})")
        return self
