"""params.yaml section `register`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from medvie.config_base import Section


class RegisterConfig(Section):
    name: str = Field(
        "medvie", min_length=1, description="registered model name in the MLflow Model Registry"
    )
    model: str = Field(
        "grpo", description="evaluated model registered: directory models/<model>, entry in metrics/eval.json"
    )
    gate_metric: str = Field("f1", description="test metric the challenger must beat the champion on")
    min_gain: float = Field(0.0, ge=0, description="challenger must exceed champion by more than this")
    force: bool = Field(False, description="promote the new version to champion regardless of metrics")
    copy_base: Literal["auto"] | bool = Field(
        "auto",
        description="a LoRA version: true copies its base into the version, false pins a reference to it "
        "(hub id + revision, or folder + fingerprint); auto copies a base inside the project only",
    )
    merge: bool = Field(
        False, description="a LoRA version: fold the adapter into the base, store one checkpoint"
    )
