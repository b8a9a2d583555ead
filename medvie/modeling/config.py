"""params.yaml section `model`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from medvie.config_base import Section
from medvie.paths import TINY_CHECKPOINT

TINY = "tiny"


class ModelConfig(Section):
    name_or_path: str = Field(
        TINY,
        description="'tiny' (the embedded pretrained Qwen2.5-VL), a local checkpoint dir, "
        "or a hub id already in the local Hugging Face cache",
    )
    tiny_dir: str = Field(
        TINY_CHECKPOINT, description="where `medvie pretrain-tiny` wrote the tiny checkpoint"
    )
    random_init: bool = Field(
        False, description="tiny only: build an untrained tiny model (tests, smoke runs)"
    )
    min_pixels: int | None = Field(
        None,
        ge=784,
        description="processor min_pixels (None: keep the checkpoint's); 784 pixels = 1 image token",
    )
    max_pixels: int | None = Field(
        None, ge=784, description="processor max_pixels (None: keep the checkpoint's); bounds image tokens"
    )
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="weights dtype when loading; auto: float32 on CPU, the checkpoint's on GPU"
    )
    attn_implementation: Literal["sdpa", "eager", "flash_attention_2"] = "sdpa"

    @model_validator(mode="after")
    def _pixels(self) -> ModelConfig:
        if self.min_pixels and self.max_pixels and self.min_pixels > self.max_pixels:
            raise ValueError(f"min_pixels ({self.min_pixels}) must not exceed max_pixels ({self.max_pixels})")
        return self
