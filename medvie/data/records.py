"""Records of the user layout (`labels.jsonl`) and of the ingested data set (`records.jsonl`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from medvie.errors import DataError
from medvie.io import read_jsonl

SPLITS = ("train", "val", "test")
UNKNOWN_DOC_TYPE = "unknown"
LABELS_FILE = "labels.jsonl"
RECORDS_FILE = "records.jsonl"


class SourceRecord(BaseModel):
    """One line of a user's `labels.jsonl`. Unknown extra keys are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    image: str
    label: dict[str, Any]
    doc_type: str | None = None
    meta: dict[str, Any] | None = None

    @field_validator("id", "image")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-empty string")
        return value

    @field_validator("label")
    @classmethod
    def _not_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("must be a non-empty object")
        return value


def parse_source_line(line: str) -> SourceRecord:
    """Parse one labels.jsonl line; raise ValueError with a one-line reason."""
    try:
        raw = json.loads(line.strip())
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"a record must be a JSON object, got {type(raw).__name__}")
    try:
        return SourceRecord.model_validate(raw, strict=True)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "record"
        if err["type"] == "missing":
            raise ValueError(f"missing '{loc}'") from None
        raise ValueError(f"'{loc}': {err['msg'].removeprefix('Value error, ')}") from None


def raw_id(line: str) -> str | None:
    """Best-effort id of a line that failed to parse, so a rejection can name it."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError:
        return None
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def load_records(directory: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Records of an ingested data set, each with an absolute `image_path` added."""
    directory = Path(directory).resolve()
    path = directory / RECORDS_FILE
    if not path.exists():
        raise DataError(f"{path}: not found; run `medvie ingest` (or `dvc repro ingest`) first")
    records = read_jsonl(path)
    for rec in records:
        if not isinstance(rec, dict) or "image" not in rec:
            raise DataError(f"{path}: a record without 'image'; re-run ingestion")
        rec["image_path"] = str(directory / rec["image"])
    return records
