"""The `queries` stage as a library call: ingested records + selection (+ OCR text) → query data sets."""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

from medvie.errors import DataError
from medvie.io import atomic_dir, read_jsonl, write_json, write_jsonl
from medvie.queries.build import cap_records, record_queries
from medvie.queries.config import QueriesConfig
from medvie.queries.dataset import SPLIT_FILES
from medvie.queries.schema import load_schema

log = logging.getLogger(__name__)


def selected_records(
    records: list[dict[str, Any]], selected_path: str | os.PathLike[str]
) -> list[dict[str, Any]]:
    """The ingested records named by the sample stage's output, in its order."""
    by_id = {str(r.get("id")): r for r in records}
    out = []
    for row in read_jsonl(selected_path):
        rid = str(row.get("id"))
        if rid not in by_id:
            raise DataError(
                f"{selected_path}: record {rid!r} is not in the ingested records; re-run the sample stage"
            )
        out.append(by_id[rid])
    if not out:
        raise DataError(f"{selected_path}: no selected records; re-run the sample stage")
    return out


def eval_records(records: list[dict[str, Any]], cfg: QueriesConfig) -> dict[str, list[dict[str, Any]]]:
    """The val/test records queries are built for (capped by queries.val_max / test_max)."""
    caps = {"val": cfg.val_max, "test": cfg.test_max}
    return {
        s: cap_records([r for r in records if r.get("split") == s], cap, cfg.seed, s)
        for s, cap in caps.items()
    }


def _hints(cfg: QueriesConfig, text_dir: str | Path | None):
    if cfg.text_hints == "off":
        return None
    source = cfg.text_hints
    from medvie.queries.build import hint_block
    from medvie.text.store import load_text

    def hints(record: dict[str, Any], lang: str) -> str:
        lines = load_text(record, text_dir, source=source)
        return hint_block(lines, record.get("width"), record.get("height"), cfg, lang)

    return hints


def train_counts(cfg: QueriesConfig) -> dict[str, int]:
    """Train queries per record by strategy; `mixed` asks all keys in `all_share` of them (rounded).

    >>> train_counts(QueriesConfig(strategy="mixed", per_record=4, all_share=0.25))
    {'subset': 3, 'all': 1}
    """
    if cfg.strategy != "mixed":
        return {cfg.strategy: cfg.per_record}
    n_all = round(cfg.per_record * cfg.all_share)
    return {k: v for k, v in {"subset": cfg.per_record - n_all, "all": n_all}.items() if v}


def build_query_sets(
    records: list[dict[str, Any]],
    selected: list[dict[str, Any]],
    cfg: QueriesConfig,
    out_dir: str | Path,
    *,
    schema_path: str | Path | None = None,
    text_dir: str | Path | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Queries per split: train from the selection (configured strategy), val/test with both strategies."""
    schema = load_schema(schema_path or cfg.schema_)
    hints = _hints(cfg, text_dir)
    out_dir = Path(out_dir).resolve()

    def image_of(rec: dict[str, Any]) -> str:
        return os.path.relpath(Path(rec["image_path"]).resolve(), out_dir)

    sets: dict[str, list[dict[str, Any]]] = {"train": []}
    for rec in selected:
        for strategy, count in train_counts(cfg).items():
            sets["train"] += record_queries(
                rec,
                schema,
                cfg,
                strategy=strategy,
                count=count,
                image=image_of(rec),
                split="train",
                hints=hints,
            )
    for split, recs in eval_records(records, cfg).items():
        sets[split] = []
        for rec in recs:
            for strategy in ("subset", "all"):
                sets[split] += record_queries(
                    rec,
                    schema,
                    cfg,
                    strategy=strategy,
                    count=cfg.eval_per_record,
                    image=image_of(rec),
                    split=split,
                    hints=hints,
                )
    return sets


def run_queries(
    cfg: QueriesConfig,
    *,
    records: str | Path,
    selected: str | Path,
    text: str | Path | None,
    schema: str | Path,
    out: str | Path,
) -> dict[str, Any]:
    """The `queries` stage: write `out/{train,val,test}.jsonl` and `summary.json`; return the summary.

    `text` is the ocr stage's output (text hints `ocr`/`auto` read it; None: text layers only)."""
    from medvie.data.records import load_records

    all_records = load_records(records)
    sets = build_query_sets(
        all_records,
        selected_records(all_records, selected),
        cfg,
        out,
        schema_path=schema,
        text_dir=text,
    )
    summary: dict[str, Any] = {
        split: {
            "queries": len(rows),
            "records": len({q["record_id"] for q in rows}),
            "strategies": dict(Counter(q["strategy"] for q in rows)),
            "doc_types": dict(sorted(Counter(q["doc_type"] for q in rows).items())),
        }
        for split, rows in sets.items()
    }
    summary["text_hints"] = cfg.text_hints
    with atomic_dir(Path(out)) as tmp:
        for split, rows in sets.items():
            write_jsonl(tmp / SPLIT_FILES[split], rows)
        write_json(tmp / "summary.json", summary)
    log.info("queries: %s", ", ".join(f"{s} {summary[s]['queries']}" for s in ("train", "val", "test")))
    return summary
