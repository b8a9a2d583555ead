"""params.yaml section `register`."""

from __future__ import annotations

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
