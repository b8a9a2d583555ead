"""params.yaml section `reward`.

Defaults where the paper is silent:
- `alpha: 0.5` — the paper's two extremes are both hackable: α = 1 pays full reward for a single
  correct pair, α = 0 pays for dumping every plausible pair. 0.5 is the mean of precision and
  recall, so dropping asked fields and inventing unasked ones cost the same.
- `matching: exact` (after normalisation) — the paper's case studies score near-identical long
  text as a miss, and an exact rule cannot be gamed by near-miss strings; normalisation (NFKC,
  width, whitespace, number form) removes the differences that are not reading errors.
- `case_fold: false` — letter case is printed on the page, so reading it is part of the task.
- `unordered: true` — JSON lists carry no meaning in their order (the paper's argument for RL).
- `duplicate_keys: reject` — an answer naming one key twice (`{"Gender": "F", "Gender": "F"}`) is
  not a JSON object for scoring: format, precision and recall are 0, in the reward and in the metrics
  alike. RFC 8259 leaves repeated names to the reader, and a repeat with two values is a hedge.
  `last` reads it as json.loads and most JSON readers do: the last value counts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from medvie.config_base import Section
from medvie.rewards.parse import DuplicateKeys, Parsed, parse_completion


class RewardConfig(Section):
    funcs: list[Literal["format", "matching", "precision", "recall", "f1"]] = Field(
        ["format", "matching"], min_length=1, description="reward functions, by registry name"
    )
    weights: list[float] | None = Field(None, description="one weight per func (default: all 1.0)")
    alpha: float = Field(0.5, ge=0, le=1, description="r_match = α·precision + (1−α)·recall")
    f_beta: float | None = Field(
        None, gt=0, description="if set, `matching` pays F-β (β > 1 favours recall) instead of the α mix"
    )
    matching: Literal["exact", "fuzzy"] = Field(
        "exact", description="leaf rule: exact after normalisation | fuzzy"
    )
    fuzzy_threshold: float = Field(0.9, gt=0, le=1, description="fuzzy: least normalised edit similarity")
    case_fold: bool = Field(False, description="compare values case-insensitively")
    unordered: bool = Field(True, description="match list items by best assignment instead of by index")
    require_thinking: bool | None = Field(
        None, description="format needs <think>…</think>: true | false | null = per query (`thinking` column)"
    )
    gate_on_format: bool = Field(False, description="`matching` pays 0 when the format check fails")
    max_chars: int = Field(200_000, ge=1, description="longer completions are invalid (bounds scoring time)")
    max_pairs: int = Field(5_000, ge=1, description="answers with more leaf pairs are invalid")
    max_depth: int = Field(32, ge=2, description="answers nested deeper are invalid")
    duplicate_keys: DuplicateKeys = Field(
        "reject",
        description="a key repeated in an answer object: reject (invalid answer) | last (last value)",
    )

    @model_validator(mode="after")
    def _weights(self) -> RewardConfig:
        if self.weights is not None and len(self.weights) != len(self.funcs):
            raise ValueError(f"weights has {len(self.weights)} entries but funcs has {len(self.funcs)}")
        return self

    def resolved_weights(self) -> list[float]:
        return list(self.weights) if self.weights is not None else [1.0] * len(self.funcs)

    def parse(self, completion: object, require_thinking: bool) -> Parsed:
        """`completion` parsed with these limits and duplicate-key rule: reward and metrics read alike."""
        return parse_completion(
            completion,
            require_thinking=require_thinking,
            max_chars=self.max_chars,
            max_depth=self.max_depth,
            duplicate_keys=self.duplicate_keys,
        )
