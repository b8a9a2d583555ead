"""Ingestion: a user-layout folder -> `data/ingested/` (normalised PNGs, records, splits, rejections).

Bad records are rejected one by one with a reason; the run fails only when more than
`data.max_reject_share` of them are bad. The output directory is built aside and swapped in
whole, so a failed or interrupted run leaves the previous one untouched.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from medvie.data.config import DataConfig
from medvie.data.images import ImageRejected, NormalisedImage, normalise_image, pixel_limit
from medvie.data.records import (
    LABELS_FILE,
    RECORDS_FILE,
    SPLITS,
    UNKNOWN_DOC_TYPE,
    SourceRecord,
    parse_source_line,
    raw_id,
)
from medvie.data.split import assign_splits
from medvie.errors import DataError
from medvie.io import atomic_dir, write_json, write_jsonl

REJECTED_FILE = "rejected.jsonl"
SUMMARY_FILE = "summary.json"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass
class _Candidate:
    line: int
    record: SourceRecord
    src: Path
    name: str  # output file stem


def _rejection(line: int, record_id: str | None, source_image: str | None, code: str, reason: str) -> dict:
    where = f"line {line}" + (f" (id {record_id!r})" if record_id is not None else "")
    return {
        "id": record_id,
        "source_image": source_image,
        "line": line,
        "code": code,
        "reason": f"{where}: {reason}",
    }


def _file_stem(record_id: str) -> str:
    """The id itself when it is a safe file name, else a slug plus a hash that keeps it unique."""
    if _SAFE_NAME.fullmatch(record_id) and record_id not in (".", ".."):
        return record_id
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", record_id).strip("._")[:60] or "record"
    return f"{slug}-{hashlib.sha1(record_id.encode()).hexdigest()[:10]}"


def _resolve_inside(root: Path, image: str) -> Path | None:
    """The image path when it stays inside the source folder (symlinks followed), else None."""
    if (
        PurePosixPath(image).is_absolute()
        or PureWindowsPath(image).is_absolute()
        or PureWindowsPath(image).drive
    ):
        return None
    path = (root / image).resolve()
    return path if path.is_relative_to(root) else None


def _read_lines(labels: Path) -> Iterator[tuple[int, str | None]]:
    """(line number, text or None when the bytes are not UTF-8) for each non-blank line."""
    with labels.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError:
                yield lineno, None
                continue
            if text.strip():
                yield lineno, text


def _parse(source: Path, labels: Path) -> tuple[list[_Candidate], list[dict], int]:
    candidates: list[_Candidate] = []
    rejected: list[dict] = []
    seen: dict[str, int] = {}
    stems: set[str] = set()
    total = 0
    for lineno, text in _read_lines(labels):
        total += 1
        if text is None:
            rejected.append(_rejection(lineno, None, None, "invalid_json", "line is not valid UTF-8"))
            continue
        try:
            rec = parse_source_line(text)
        except ValueError as exc:
            code = (
                "invalid_json" if str(exc).startswith(("invalid JSON", "a record must")) else "invalid_record"
            )
            rejected.append(_rejection(lineno, raw_id(text), None, code, str(exc)))
            continue
        if rec.id in seen:
            rejected.append(
                _rejection(
                    lineno,
                    rec.id,
                    rec.image,
                    "duplicate_id",
                    f"duplicate id, first seen on line {seen[rec.id]}",
                )
            )
            continue
        seen[rec.id] = lineno
        src = _resolve_inside(source, rec.image)
        if src is None:
            reason = f"image path {rec.image!r} leaves the source folder; use a relative path inside it"
            rejected.append(_rejection(lineno, rec.id, rec.image, "unsafe_path", reason))
            continue
        stem = _file_stem(rec.id)
        while stem.lower() in stems:  # case-insensitive file systems
            stem = f"{stem}-{hashlib.sha1(stem.encode()).hexdigest()[:6]}"
        stems.add(stem.lower())
        candidates.append(_Candidate(lineno, rec, src, stem))
    return candidates, rejected, total


def _scaled_meta(meta: dict[str, Any] | None, img: NormalisedImage) -> dict[str, Any]:
    """Meta with text-layer boxes and sizes moved to the normalised image's pixel coordinates."""
    meta = copy.deepcopy(meta) if meta else {}
    if img.scale != 1.0:
        for item in meta.get("text_layer") or []:
            box = item.get("box") if isinstance(item, dict) else None
            if isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box):
                item["box"] = [round(v * img.scale, 2) for v in box]
        if "width" in meta and "height" in meta:
            meta["width"], meta["height"] = img.width, img.height
        meta["ingest_scale"] = img.scale
    if img.exif_transposed:
        meta["exif_transposed"] = True
    return meta


def ingest(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    cfg: DataConfig,
) -> dict[str, Any]:
    """Ingest the user-layout folder `source` into `out`; return the summary that is also written there."""
    source, out = Path(source), Path(out)
    labels = source / LABELS_FILE
    if not labels.is_file():
        raise DataError(
            f"{labels}: not found; data.source must be a folder holding {LABELS_FILE} and the images"
        )
    source = source.resolve()
    failed_list = out.with_name(out.name + ".rejected.jsonl")
    candidates, rejected, total = _parse(source, labels)
    if total == 0:
        raise DataError(f"{labels}: no records; add one JSON object per line")

    with atomic_dir(out) as tmp:
        images_dir = tmp / "images"
        images_dir.mkdir()

        def work(c: _Candidate) -> NormalisedImage | ImageRejected:
            try:
                return normalise_image(
                    c.src,
                    images_dir / f"{c.name}.png",
                    max_side=cfg.max_image_side,
                    max_pixels=cfg.max_image_pixels,
                )
            except ImageRejected as exc:
                return exc

        with pixel_limit(cfg.max_image_pixels):
            if cfg.workers == 1:
                results = [work(c) for c in candidates]
            else:
                pool = ThreadPoolExecutor(cfg.workers)
                try:
                    results = list(pool.map(work, candidates))
                finally:
                    # on Ctrl-C, drop the queued images instead of finishing them
                    pool.shutdown(wait=True, cancel_futures=True)

        kept: list[tuple[_Candidate, NormalisedImage]] = []
        for c, res in zip(candidates, results, strict=True):
            if isinstance(res, ImageRejected):
                rejected.append(_rejection(c.line, c.record.id, c.record.image, res.code, str(res)))
            else:
                kept.append((c, res))
        rejected.sort(key=lambda r: r["line"])

        share = len(rejected) / total
        if share > cfg.max_reject_share or not kept:
            write_jsonl(failed_list, rejected)
            top = ", ".join(f"{k} {v}" for k, v in Counter(r["code"] for r in rejected).most_common(3))
            raise DataError(
                f"{labels}: {len(rejected)} of {total} records rejected ({share:.0%} > data.max_reject_share "
                f"{cfg.max_reject_share:.0%}; {top}); reasons in {failed_list}; fix those records or raise "
                f"data.max_reject_share ({out} not modified)"
            )

        splits, groups = assign_splits(
            [c.record.id for c, _ in kept],
            [img.sha256 for _, img in kept],
            [img.phash for _, img in kept],
            cfg.split,
            cfg.near_duplicate_distance,
            [img.phash256 for _, img in kept] if cfg.near_duplicate_confirm_distance is not None else None,
            cfg.near_duplicate_confirm_distance or 0,
        )
        records = []
        for (c, img), split in zip(kept, splits, strict=True):
            meta = c.record.meta or {}
            group = ""  # records without a family (a user's own) are neither in-family nor held out
            if meta.get("family"):
                group = "held_out" if meta["family"] in cfg.holdout_families else "in_family"
            if group == "held_out":
                split = "test"  # leave-family-out: a held-out family's reports are only ever tested on
            doc_type = c.record.doc_type or meta.get("doc_type") or UNKNOWN_DOC_TYPE
            records.append(
                {
                    "id": c.record.id,
                    "image": f"images/{c.name}.png",
                    "label": c.record.label,
                    "doc_type": doc_type if isinstance(doc_type, str) else UNKNOWN_DOC_TYPE,
                    "meta": _scaled_meta(c.record.meta, img),
                    "split": split,
                    "family_group": group,
                    "sha256": img.sha256,
                    "phash": img.phash,
                    "phash256": img.phash256,
                    "width": img.width,
                    "height": img.height,
                    "source_image": c.record.image,
                }
            )
        summary = _summary(records, rejected, total, groups)
        write_jsonl(tmp / RECORDS_FILE, records)
        write_jsonl(tmp / REJECTED_FILE, rejected)
        write_json(tmp / SUMMARY_FILE, summary)
    failed_list.unlink(missing_ok=True)
    return summary


def _summary(records: list[dict], rejected: list[dict], total: int, groups) -> dict[str, Any]:
    group_sizes = Counter(groups.tolist())
    per_split_doc: dict[str, Counter] = {s: Counter() for s in SPLITS}
    for r in records:
        per_split_doc[r["split"]][r["doc_type"]] += 1
    return {
        "n_input": total,
        "n_kept": len(records),
        "n_rejected": len(rejected),
        "reject_share": round(len(rejected) / total, 6) if total else 0.0,
        "splits": {s: sum(per_split_doc[s].values()) for s in SPLITS},
        "doc_types": dict(sorted(Counter(r["doc_type"] for r in records).items())),
        "split_doc_types": {s: dict(sorted(c.items())) for s, c in per_split_doc.items()},
        "rejections": dict(sorted(Counter(r["code"] for r in rejected).items())),
        "duplicate_groups": sum(1 for n in group_sizes.values() if n > 1),
        "records_in_duplicate_groups": sum(n for n in group_sizes.values() if n > 1),
        "largest_duplicate_group": max(group_sizes.values(), default=0),
    }
