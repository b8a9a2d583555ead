"""params.yaml, parsed once into typed, validated sections.

Each section's class lives beside the code that uses it (`medvie/<area>/config.py`); this
module only composes them and turns validation failures into one line that names the key.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError

from medvie.config_base import Section, load_yaml
from medvie.data.config import DataConfig, ValidateConfig
from medvie.errors import ConfigError
from medvie.evaluation.config import EvaluateConfig
from medvie.modeling.config import ModelConfig
from medvie.queries.config import QueriesConfig
from medvie.registry.config import RegisterConfig
from medvie.rewards.config import RewardConfig
from medvie.sampling.config import SamplingConfig
from medvie.text.config import TextConfig
from medvie.training.config import TrainConfig, WarmstartConfig


class EnvConfig(Section):
    threads: int = Field(1, ge=1, le=64, description="OMP_NUM_THREADS / torch threads")


class Params(Section):
    env: EnvConfig = EnvConfig()
    data: DataConfig = DataConfig()
    validate_: ValidateConfig = Field(ValidateConfig(), alias="validate")
    sampling: SamplingConfig = SamplingConfig()
    text: TextConfig = TextConfig()
    queries: QueriesConfig = QueriesConfig()
    model: ModelConfig = ModelConfig()
    warmstart: WarmstartConfig = WarmstartConfig()
    train: TrainConfig = TrainConfig()
    reward: RewardConfig = RewardConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    register_: RegisterConfig = Field(RegisterConfig(), alias="register")


# The sections that decide what a trained model is, by their params.yaml names: a training run logs
# them to MLflow, and a registered version carries them (with `evaluate`, how it was measured).
PARAM_SECTIONS = ("reward", "sampling", "queries", "text", "model", "warmstart", "train")


def dump_sections(params: Params, sections: Iterable[str] = PARAM_SECTIONS) -> dict[str, dict[str, Any]]:
    """{section: its values as JSON types, keys by their params.yaml names} for `sections` of `params`."""
    fields = {(info.alias or name): name for name, info in Params.model_fields.items()}
    return {s: getattr(params, fields[s]).model_dump(mode="json", by_alias=True) for s in sections}


def _describe(err: Mapping[str, Any]) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"unknown key '{loc}' (remove it or check its spelling)"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"'{loc}': {msg} (got {err.get('input')!r})"


def parse_params(raw: dict[str, Any] | None, source: str = "params.yaml") -> Params:
    """Validate a params mapping; a wrong key or value raises ConfigError naming it."""
    try:
        return Params.model_validate(raw or {})
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{source}: {_describe(errors[0])}{more}") from None


def load_params(path: str | os.PathLike[str] = "params.yaml") -> Params:
    path = Path(path)
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found; run from the project root or set MEDVIE_ROOT") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    if raw is not None and not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping of sections")
    return parse_params(raw, source=str(path))
