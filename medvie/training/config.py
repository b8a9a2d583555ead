"""params.yaml sections `warmstart` and `train`.

`train.grpo` holds GRPOConfig fields by their TRL names. The list of valid names is a file
(`grpo_fields.json`, checked against the installed TRL by a test) so that loading params never
imports TRL. The recipe lives in params.yaml (the CPU recipe of the tiny model) and in the presets
of configs/presets/; a field they leave out takes TRL's own default, never a copy of it here.
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from medvie.config_base import Section

# Set by medvie itself; a value in train.grpo would be silently overridden, so it is an error instead.
MANAGED_GRPO_KEYS = {
    "output_dir": "checkpoints go to train.work_dir/checkpoints",
    "report_to": "medvie logs to MLflow itself",
    "reward_weights": "set weights in the reward section",
    "seed": "set train.seed",
    "resume_from_checkpoint": "set train.resume",
    "max_prompt_length": (
        "prompts holding image tokens are never truncated; bound image tokens with model.max_pixels"
    ),
}


@cache
def grpo_field_names() -> frozenset[str]:
    data = json.loads((Path(__file__).with_name("grpo_fields.json")).read_text(encoding="utf-8"))
    return frozenset(data["fields"])


class WarmstartConfig(Section):
    """SFT before GRPO: transcription (OCR-SFT) mixed with extraction (JSON-SFT) targets."""

    enabled: Literal["auto"] | bool = Field(
        "auto", description="auto: only for model.name_or_path 'tiny'; a real Qwen2.5-VL does pure RL"
    )
    steps: int = Field(150, ge=1, description="optimizer steps")
    lr: float = Field(1.0e-3, gt=0)
    lr_scheduler_type: str = "linear"
    batch_size: int = Field(4, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    transcription_share: float = Field(
        0.5, ge=0, le=1, description="share of transcription examples: 0 = JSON-SFT only, 1 = OCR-SFT only"
    )
    transcription_max_chars: int = Field(
        600, ge=16, description="transcription targets are cut at a line end"
    )
    think_text: str = Field(
        "I read the report and copy the asked fields.", description="<think> content of extraction targets"
    )
    split: str = Field("train", description="queries file the examples come from")
    lora: bool = Field(
        False, description="LoRA SFT (merged into the saved model) instead of full fine-tuning"
    )
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    use_cpu: bool = True
    bf16: bool = False
    gradient_checkpointing: bool = False
    seed: int = 0


class LoraConfigSection(Section):
    enabled: bool = Field(True, description="false: full fine-tuning")
    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] = Field(
        ["q_proj", "k_proj", "v_proj", "o_proj"], min_length=1, description="module names (suffixes)"
    )
    language_only: bool = Field(
        True, description="adapt only the language model (the vision tower reuses names like gate_proj)"
    )


class TrainConfig(Section):
    grpo: dict[str, Any] = Field(
        default_factory=dict, description="GRPOConfig fields by TRL name; one left out keeps TRL's default"
    )
    lora: LoraConfigSection = LoraConfigSection()
    seed: int = 0
    resume: Literal["auto", "never"] = Field(
        "auto",
        description="auto: continue from the last checkpoint in work_dir when the config still matches",
    )
    work_dir: str = Field("build/train", description="checkpoints live here, outside DVC outputs")
    split: str = Field("train", description="queries file trained on")
    launch: str = Field(
        "configs/accelerate/cpu.yaml",
        min_length=1,
        description="accelerate config the training processes start from (medvie/training/launch.py)",
    )

    @field_validator("grpo")
    @classmethod
    def _grpo_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        known = grpo_field_names()
        for key in value:
            if key in MANAGED_GRPO_KEYS:
                raise ValueError(f"'{key}' is set by medvie ({MANAGED_GRPO_KEYS[key]}); remove it")
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ValueError(f"'{key}' is not a GRPOConfig field{hint}")
        return value
