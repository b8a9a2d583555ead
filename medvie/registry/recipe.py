"""A registered model's prompt recipe: everything besides its weights that decides what it is asked and how
it answers, as the queries, ocr and evaluate stages used it.

The register stage writes it from params.yaml (`Recipe.from_params`) next to the weights; serving
(`medvie.registry.service`) reads it back and builds each prompt with the queries stage's own functions.

- `queries`: thinking, text_hints, hint_positions, hint_max_lines, key_language, key_aliases
  (validated as a `queries` section);
- `text`: the OCR engine settings of the `text` section that OCR output depends on, and its time limit;
- `image`: the ingest bounds images were normalised with (`data.max_image_side`, `data.max_image_pixels`);
  None for versions registered before there was a recipe (images are used as sent);
- `generation`: max new tokens, batch size and device of the evaluate stage (decoding is greedy there);
- `schema`: the content of the schema file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from medvie.errors import ConfigError
from medvie.queries.config import QueriesConfig
from medvie.text.config import TextConfig

FORMAT = 1
QUERY_KEYS = ("thinking", "text_hints", "hint_positions", "hint_max_lines", "key_language", "key_aliases")


class Generation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_new_tokens: int = Field(512, ge=1)
    batch_size: int = Field(8, ge=1)
    device: str = "cpu"
    dtype: str = "auto"
    # the evaluate section's decoding (greedy by default): a served model decodes as it was evaluated
    decoding: dict[str, Any] = Field(default_factory=dict)


class ImageBounds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_side: int = Field(ge=1)
    max_pixels: int = Field(ge=1)


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    format: int = FORMAT
    queries: dict[str, Any]
    text: dict[str, Any]
    image: ImageBounds | None = None
    generation: Generation = Generation()
    schema_: dict[str, Any] = Field(alias="schema")
    schema_file: str = ""

    # ------------------------------------------------------------ making one

    @classmethod
    def from_params(cls, params: Any, root: Path) -> Recipe:
        """The recipe of a model evaluated with `params` (a `medvie.settings.Params`) in project `root`."""
        from medvie.queries.schema import load_schema
        from medvie.text.store import engine_signature

        q, ev = params.queries, params.evaluate
        schema_path = Path(root) / q.schema_
        load_schema(schema_path)  # a broken schema fails here, naming the file
        return cls(
            queries={k: getattr(q, k) for k in QUERY_KEYS},
            text={**engine_signature(params.text), "timeout_s": params.text.timeout_s},
            image=ImageBounds(max_side=params.data.max_image_side, max_pixels=params.data.max_image_pixels),
            generation=Generation(
                max_new_tokens=ev.max_new_tokens,
                batch_size=ev.batch_size,
                device=ev.device,
                dtype=ev.dtype,
                decoding=ev.generation.as_kwargs(),
            ),
            schema_=json.loads(schema_path.read_text(encoding="utf-8")),
            schema_file=q.schema_,
        )

    @classmethod
    def legacy(cls, settings: dict[str, Any], schema_path: str | os.PathLike[str]) -> Recipe:
        """The recipe of a version registered before recipes: its `settings` artifact and schema file
        (no text hints, key language `auto` read as English, images as sent)."""
        lang = settings.get("key_language", "en")
        return cls(
            queries={
                "thinking": bool(settings.get("thinking", True)),
                "text_hints": "off",
                "key_language": "en" if lang == "auto" else lang,
            },
            text={},
            generation=Generation(
                max_new_tokens=int(settings.get("max_new_tokens", 512)),
                batch_size=int(settings.get("batch_size", 4)),
            ),
            schema_=json.loads(Path(schema_path).read_text(encoding="utf-8")),
            schema_file=str(schema_path),
        )

    # ------------------------------------------------------------ files

    def write(self, path: str | os.PathLike[str]) -> Path:
        path = Path(path)
        path.write_text(
            json.dumps(self.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=2),
            encoding="utf-8",
        )
        return path

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Recipe:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: unreadable model recipe ({exc.__class__.__name__})") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: a model recipe is a JSON object")
        if raw.get("format", FORMAT) > FORMAT:
            raise ConfigError(
                f"{path}: model recipe format {raw['format']} is newer than this medvie reads ({FORMAT}); "
                "upgrade medvie"
            )
        return cls.model_validate(raw)

    # ------------------------------------------------------------ what serving uses

    def queries_config(self) -> QueriesConfig:
        """A `queries` section holding the recipe's prompt settings (other keys at their defaults)."""
        return QueriesConfig.model_validate(self.queries)

    def text_config(self) -> TextConfig:
        """A `text` section holding the recipe's OCR settings (other keys at their defaults)."""
        return TextConfig.model_validate(self.text)

    def keys_schema(self):
        """The schema the model was asked with (`medvie.queries.schema.Schema`)."""
        from medvie.queries.schema import Schema

        return Schema.model_validate({**self.schema_, "source": self.schema_file or "the model's recipe"})

    @property
    def ocr(self) -> bool:
        """Serving reads the page's text (OCR, unless a request brings the lines) to head the prompt."""
        return self.queries.get("text_hints", "off") != "off"
