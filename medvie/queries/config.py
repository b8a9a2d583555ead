"""params.yaml section `queries`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from medvie.config_base import Section


class QueriesConfig(Section):
    strategy: Literal["subset", "all", "mixed"] = Field(
        "subset",
        description="train queries: random key subsets, all keys, or both (all_share of them all keys)",
    )
    per_record: int = Field(4, ge=1, description="train queries per selected record")
    all_share: float = Field(
        0.25, ge=0, le=1, description="mixed: share of a record's train queries that ask all keys"
    )
    keys_min: int = Field(1, ge=1, description="subset: fewest keys asked")
    keys_max: int = Field(6, ge=1, description="subset: most keys asked (capped by the keys the label has)")
    row_fields_subset_prob: float = Field(
        0.5,
        ge=0,
        le=1,
        description="subset: chance that list rows (Indicators) ask only some of their fields",
    )
    thinking: bool = Field(True, description="ask for <think></think> before <answer></answer>")
    text_hints: Literal["off", "layer", "ocr"] = Field(
        "off", description="put the document's text lines in the prompt: off | text layer | OCR (ocr stage)"
    )
    hint_positions: bool = Field(
        False, description="prefix each hint line with its coarse position (percent x,y)"
    )
    hint_max_lines: int = Field(
        200, ge=1, description="hint lines kept; the prompt says how many were left out"
    )
    schema_: str = Field(
        "schemas/medical.json", alias="schema", description="schema file (keys, names, descriptions)"
    )
    key_aliases: bool = Field(
        True, description="list each asked key's printed labels (schema aliases) in its description"
    )
    key_language: Literal["en", "zh", "auto"] = Field(
        "en", description="key names in prompt and truth; auto: the record's language"
    )
    seed: int = 0
    eval_per_record: int = Field(1, ge=1, description="val/test queries per record and strategy")
    val_max: int = Field(50, ge=0, description="val records used (0: none)")
    test_max: int = Field(200, ge=0, description="test records used (0: none)")

    @field_validator("text_hints", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        # YAML 1.1 reads a bare `off` as false
        return "off" if value is False else value

    @model_validator(mode="after")
    def _range(self) -> QueriesConfig:
        if self.keys_min > self.keys_max:
            raise ValueError(f"keys_min ({self.keys_min}) must not exceed keys_max ({self.keys_max})")
        return self
