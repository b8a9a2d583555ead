"""The `ocr` and `queries` stages as library calls: ingested records + selection → OCR cache → query data sets."""

from __future__ import annotations

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
from medvie.text.config import TextConfig


def selected_records(records: list[dict[str, Any]], selected_path: str | Path) -> list[dict[str, Any]]:
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


def records_needing_ocr(
    records: list[dict[str, Any]],
    selected: list[dict[str, Any]],
    tcfg: TextConfig,
    qcfg: QueriesConfig,
    baseline: bool = False,
) -> tuple[list[dict[str, Any]], str]:
    """Records to OCR and why; `baseline`: evaluation runs the OCR baseline."""
    evals = eval_records(records, qcfg)
    need: dict[str, dict[str, Any]] = {}
    reasons = []
    if qcfg.text_hints == "ocr":
        reasons.append("queries.text_hints=ocr")
        for rec in [*selected, *evals["val"], *evals["test"]]:
            need[str(rec["id"])] = rec
    if tcfg.for_baseline == "always" or (tcfg.for_baseline == "auto" and baseline):
        lacking = [
            r
            for r in [*evals["val"], *evals["test"]]
            if tcfg.for_baseline == "always" or not (r.get("meta") or {}).get("text_layer")
        ]
        if lacking:
            reasons.append(f"OCR baseline (text.for_baseline={tcfg.for_baseline})")
        for rec in lacking:
            need[str(rec["id"])] = rec
    return list(need.values()), ", ".join(reasons)


def run_ocr_stage(
    records_dir: str | Path,
    selected_path: str | Path,
    text_dir: str | Path,
    tcfg: TextConfig,
    qcfg: QueriesConfig,
    *,
    baseline: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """OCR just the records that need it; with nothing to do, an empty (manifest-only) `text_dir`."""
    from medvie.data.records import load_records
    from medvie.text.store import ocr_records

    needed: list[dict[str, Any]] = []
    reason = ""
    if (
        qcfg.text_hints == "ocr"
        or tcfg.for_baseline == "always"
        or (tcfg.for_baseline == "auto" and baseline)
    ):
        records = load_records(records_dir)
        selected = selected_records(records, selected_path)
        needed, reason = records_needing_ocr(records, selected, tcfg, qcfg, baseline)
    return ocr_records(needed, text_dir, tcfg, reason=reason, progress=progress)


def _hints(cfg: QueriesConfig, text_dir: str | Path | None):
    if cfg.text_hints == "off":
        return None
    from medvie.text.store import format_hints, load_text

    def hints(record: dict[str, Any], lang: str) -> str:
        lines = load_text(record, text_dir, source=cfg.text_hints)
        return format_hints(
            lines,
            width=record.get("width"),
            height=record.get("height"),
            positions=cfg.hint_positions,
            max_lines=cfg.hint_max_lines,
            language=lang,
        )

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
    records_dir: str | Path,
    selected_path: str | Path,
    out_dir: str | Path,
    cfg: QueriesConfig,
    *,
    text_dir: str | Path | None = "data/text",
    schema_path: str | Path | None = None,
) -> dict[str, Any]:
    """Write `out_dir/{train,val,test}.jsonl` and `summary.json`; return the summary."""
    from medvie.data.records import load_records

    records = load_records(records_dir)
    sets = build_query_sets(
        records,
        selected_records(records, selected_path),
        cfg,
        out_dir,
        schema_path=schema_path,
        text_dir=text_dir,
    )
    summary = {
        split: {
            "queries": len(rows),
            "records": len({q["record_id"] for q in rows}),
            "strategies": dict(Counter(q["strategy"] for q in rows)),
            "doc_types": dict(sorted(Counter(q["doc_type"] for q in rows).items())),
        }
        for split, rows in sets.items()
    }
    summary["text_hints"] = cfg.text_hints
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        for split, rows in sets.items():
            write_jsonl(tmp / SPLIT_FILES[split], rows)
        write_json(tmp / "summary.json", summary)
    return summary
