"""The extraction schema as data: keys, their names per language, descriptions, list/object fields.

File format (`schemas/medical.json`):
`{"name", "document": str | {lang: str}, "keys": [KeySpec]}` with KeySpec
`{"key": canonical name used in labels, "names": {lang: name}?, "description": str | {lang: str},
"aliases": {lang: [label, ...]}?, "type": "string" | "list" | "object", "fields": [KeySpec]?}`
(`list` = list of objects with `fields`). `aliases` are the words forms print for a key ("Pt. Name",
"姓名"): the prompt lists them, the OCR baseline looks for them; extend them for your own forms.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from medvie.errors import ConfigError, DataError

Text = str | dict[str, str]


def _pick(text: Text | None, lang: str) -> str:
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(lang) or text.get("en") or next(iter(text.values()), "")


class KeySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1)
    names: dict[str, str] = {}
    description: Text = ""
    aliases: dict[str, list[str]] = {}
    type: Literal["string", "list", "object"] = "string"
    fields: list[KeySpec] = []

    @model_validator(mode="after")
    def _fields(self) -> KeySpec:
        if self.type != "string" and not self.fields:
            raise ValueError(f"key '{self.key}' of type {self.type} needs 'fields'")
        if self.type == "string" and self.fields:
            raise ValueError(f"key '{self.key}' has 'fields' but type string (use list or object)")
        _unique([f.key for f in self.fields], f"fields of '{self.key}'")
        return self

    def name(self, lang: str) -> str:
        return self.names.get(lang, self.key)

    def labels(self, lang: str) -> list[str]:
        """The words a form may print for this key in `lang`: its aliases, else its name."""
        return list(self.aliases.get(lang) or [self.name(lang)])

    def field(self, key: str) -> KeySpec | None:
        return next((f for f in self.fields if f.key == key), None)

    def known_field(self, key: str) -> KeySpec:
        """The spec of a field already checked against the schema (`Schema.check_label`)."""
        spec = self.field(key)
        if spec is None:
            raise KeyError(f"field '{key}' of '{self.key}' is not in the schema")
        return spec


def _unique(keys: list[str], where: str) -> None:
    seen = set()
    for k in keys:
        if k in seen:
            raise ValueError(f"duplicate key '{k}' in {where}")
        seen.add(k)


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "schema"
    document: Text = "document"
    keys: list[KeySpec] = Field(min_length=1)
    source: str = Field("", exclude=True)

    @model_validator(mode="after")
    def _keys(self) -> Schema:
        _unique([k.key for k in self.keys], "keys")
        return self

    @property
    def key_names(self) -> list[str]:
        return [k.key for k in self.keys]

    def spec(self, key: str) -> KeySpec | None:
        return next((k for k in self.keys if k.key == key), None)

    def known(self, key: str) -> KeySpec:
        """The spec of a key already checked against the schema (`check_label`, or an asked key)."""
        spec = self.spec(key)
        if spec is None:
            raise KeyError(f"key '{key}' is not in schema {self.source or self.name}")
        return spec

    def document_name(self, lang: str) -> str:
        return _pick(self.document, lang)

    # ------------------------------------------------------------ labels

    def check_label(self, label: dict[str, Any], record_id: str) -> None:
        """Every key (and list/object field) of the label must be in the schema."""
        for key, value in label.items():
            spec = self.spec(key)
            if spec is None:
                raise DataError(
                    f"record {record_id!r}: label key '{key}' is not in schema {self.source or self.name}; "
                    "add it to the schema (queries.schema) or fix the label"
                )
            rows = (
                value
                if spec.type == "list" and isinstance(value, list)
                else [value]
                if spec.type == "object"
                else []
            )
            for row in rows:
                for field in row if isinstance(row, dict) else ():
                    if spec.field(field) is None:
                        raise DataError(
                            f"record {record_id!r}: field '{field}' of '{key}' is not in schema "
                            f"{self.source or self.name}; add it to the schema or fix the label"
                        )

    def translate(self, value: dict[str, Any], lang: str) -> dict[str, Any]:
        """Rename the keys of a (restricted) label to their names in `lang`."""
        return {self.known(k).name(lang): _translate_value(self.known(k), v, lang) for k, v in value.items()}

    # ------------------------------------------------------------ prompt

    def describe(self, asked: dict[str, list[str] | None], lang: str, aliases: bool = False) -> str:
        """Key descriptions: the asked part of the schema as JSON with a comment per key, values removed,
        one element kept per list. `asked` maps a key to None (all its fields) or the fields asked;
        with `aliases`, each comment ends with the labels a form may print for the key."""
        specs = [(self.known(k), f) for k, f in asked.items()]
        return "\n".join(_render_object(specs, lang, 0, aliases))

    def with_aliases(self, extra: dict[str, list[str]], lang: str) -> Schema:
        """A copy whose keys (or list fields) named in `extra` also list those labels in `lang`."""

        def grow(spec: KeySpec) -> KeySpec:
            fields = [grow(f) for f in spec.fields]
            add = [a for a in extra.get(spec.key, []) if a not in spec.labels(lang)]
            aliases = {**spec.aliases, lang: spec.labels(lang) + add} if add else spec.aliases
            return spec.model_copy(update={"fields": fields, "aliases": aliases})

        return self.model_copy(update={"keys": [grow(k) for k in self.keys]})


def _translate_value(spec: KeySpec, value: Any, lang: str) -> Any:
    if spec.type == "list" and isinstance(value, list):
        return [_translate_row(spec, row, lang) for row in value]
    if spec.type == "object" and isinstance(value, dict):
        return _translate_row(spec, value, lang)
    return value


def _translate_row(spec: KeySpec, row: Any, lang: str) -> Any:
    if not isinstance(row, dict):
        return row
    return {
        spec.known_field(f).name(lang): _translate_value(spec.known_field(f), v, lang) for f, v in row.items()
    }


def _render_object(
    specs: Sequence[tuple[KeySpec, list[str] | None]], lang: str, depth: int, aliases: bool = False
) -> list[str]:
    pad = "  " * depth
    out = [pad + "{"]
    for i, (spec, fields) in enumerate(specs):
        comma = "," if i < len(specs) - 1 else ""
        name = json.dumps(spec.name(lang), ensure_ascii=False)
        comment = _pick(spec.description, lang)
        if aliases and spec.aliases:
            printed = " | ".join(spec.labels(lang))
            comment = f"{comment}; {'印作' if lang == 'zh' else 'printed as'}: {printed}"
        note = f"  // {comment}" if comment else ""
        inner = [(f, None) for f in spec.fields if fields is None or f.key in fields]
        if spec.type == "string":
            out.append(f'{pad}  {name}: ""{comma}{note}')
        elif spec.type == "object":
            body = _render_object(inner, lang, depth + 1, aliases)
            out.append(f"{pad}  {name}: {body[0].strip()}{note}")
            out.extend(body[1:-1])
            out.append(body[-1] + comma)
        else:
            out.append(f"{pad}  {name}: [{note}")
            out.extend(_render_object(inner, lang, depth + 2, aliases))
            out.append(f"{pad}  ]{comma}")
    out.append(pad + "}")
    return out


def load_schema(path: str | os.PathLike[str]) -> Schema:
    """Read and validate a schema file; errors name the file and the problem."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: schema file not found (queries.schema)") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON at line {exc.lineno} ({exc.msg})") from None
    try:
        return Schema.model_validate({**raw, "source": str(path)} if isinstance(raw, dict) else raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "schema"
        raise ConfigError(f"{path}: '{loc}': {err['msg'].removeprefix('Value error, ')}") from None
