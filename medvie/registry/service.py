"""Extraction service: images (path, bytes, base64 or PIL) + optional keys -> the JSON the model reads.

Used by the registered pyfunc model and by `medvie extract`. One bad image yields an error entry
for that image; the rest of the batch still runs.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from medvie.errors import DataError


def decode_image(value: Any):
    """A PIL RGB image from a path, raw bytes, a base64 string (optionally a data: URL) or a PIL image."""
    from PIL import Image, UnidentifiedImageError

    if hasattr(value, "convert") and hasattr(value, "size"):
        return value.convert("RGB")
    data: bytes | None = None
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("data:") and "," in text:
            text = text.split(",", 1)[1]
        if len(text) < 1024 and Path(text).expanduser().is_file():
            data = Path(text).expanduser().read_bytes()
        else:
            try:
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                what = "file not found" if len(text) < 1024 else "not a path and not valid base64"
                raise DataError(f"image {text[:80]!r}: {what}") from None
    else:
        raise DataError(f"image of type {type(value).__name__}: give a path, bytes or a base64 string")
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return im.convert("RGB")
    except UnidentifiedImageError:
        raise DataError("image: not a readable image (unknown format); send a PNG/JPEG/WebP file") from None
    except OSError as exc:
        raise DataError(f"image: not a readable image ({str(exc)[:80]})") from None


def parse_keys(value: Any) -> list[str] | None:
    """Keys asked: None / empty (all keys), a list, a JSON list string or a comma-separated string."""
    if value is None or (isinstance(value, float) and value != value):  # pandas NaN
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.startswith("["):
            value = json.loads(text)
        else:
            return [k.strip() for k in text.split(",") if k.strip()]
    keys = [str(k) for k in list(value)]
    return keys or None


class Extractor:
    """A loaded model + the schema and query settings it was trained with."""

    def __init__(
        self,
        model,
        processor,
        schema,
        *,
        thinking: bool = True,
        language: str = "en",
        max_new_tokens: int = 512,
        batch_size: int = 4,
    ) -> None:
        self.model, self.processor, self.schema = model, processor, schema
        self.thinking, self.language = thinking, language
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size

    @classmethod
    def from_dir(
        cls, model_dir: str | Path, schema_path: str | Path, settings: dict | None = None, device: str = "cpu"
    ) -> Extractor:
        from medvie import modeling
        from medvie.queries.schema import load_schema

        settings = settings or {}
        model, processor = modeling.load(str(model_dir), device=device)
        lang = settings.get("key_language", "en")
        return cls(
            model,
            processor,
            load_schema(schema_path),
            thinking=bool(settings.get("thinking", True)),
            language="en" if lang == "auto" else lang,
            max_new_tokens=int(settings.get("max_new_tokens", 512)),
            batch_size=int(settings.get("batch_size", 4)),
        )

    def prompt(self, keys: Sequence[str] | None) -> list[dict]:
        from medvie.queries.build import ask_all, build_prompt

        if keys:
            unknown = [k for k in keys if self.schema.spec(k) is None]
            if unknown:
                raise DataError(f"keys {unknown}: not in the schema; choose from {self.schema.key_names}")
            asked = dict.fromkeys(keys)
        else:
            asked = ask_all(self.schema)
        text = build_prompt(self.schema, asked, self.language, self.thinking)
        return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]

    def extract(self, items: Sequence[dict]) -> list[dict]:
        """items: {"image": ..., "keys": ...?} -> {"ok", "result", "error", "raw"} per item, in order."""
        from medvie import modeling
        from medvie.rewards.parse import parse_completion

        out: list[dict] = [{}] * len(items)
        ready: list[tuple[int, Any, list[dict]]] = []
        for i, item in enumerate(items):
            try:
                ready.append((i, decode_image(item.get("image")), self.prompt(parse_keys(item.get("keys")))))
            except (DataError, ValueError) as exc:
                out[i] = {"ok": False, "result": None, "error": str(exc), "raw": None}
        for start in range(0, len(ready), self.batch_size):
            chunk = ready[start : start + self.batch_size]
            texts = modeling.generate(
                self.model,
                self.processor,
                [c[1] for c in chunk],
                [c[2] for c in chunk],
                max_new_tokens=self.max_new_tokens,
                batch_size=self.batch_size,
            )
            for (i, _, _), text in zip(chunk, texts):
                parsed = parse_completion(text, require_thinking=self.thinking)
                error = None if parsed.answer is not None else "the model's answer holds no JSON object"
                out[i] = {
                    "ok": parsed.answer is not None,
                    "result": parsed.answer,
                    "error": error,
                    "raw": text,
                }
        return out
