"""Pick the training records: features → selection → `selected.jsonl` + a diversity report
(diverse vs random)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medvie.errors import ConfigError, DataError
from medvie.io import write_json, write_jsonl
from medvie.sampling.config import SamplingConfig
from medvie.sampling.features import FeatureCache, build_matrix, flat_meta, record_language
from medvie.sampling.select import k_center_greedy, pairwise_stats, random_selection

log = logging.getLogger(__name__)


def candidate_pool(
    records: Sequence[dict[str, Any]], cfg: SamplingConfig, source: str = "records"
) -> list[dict]:
    """The records of `cfg.split`; empty labels and a pool smaller than `cfg.n` are errors."""
    pool = [r for r in records if r.get("split") == cfg.split]
    empty = [str(r.get("id")) for r in pool if not r.get("label")]
    if empty:
        more = f" (+{len(empty) - 3} more)" if len(empty) > 3 else ""
        raise DataError(
            f"{source}: {len(empty)} {cfg.split} record(s) have an empty label: "
            f"{', '.join(empty[:3])}{more}; label them or drop them from the source and re-run ingest"
        )
    if cfg.n > len(pool):
        raise ConfigError(
            f"sampling.n = {cfg.n} but the {cfg.split} split of {source} holds only {len(pool)} record(s); "
            f"lower sampling.n or add data"
        )
    return pool


def feature_matrix(
    pool: Sequence[dict[str, Any]], cfg: SamplingConfig, cache_path: str | Path | None
) -> np.ndarray:
    weights = cfg.weights.model_dump()
    image = None
    if any(weights[g] > 0 for g in ("layout", "thumbnail", "phash")):
        cache = FeatureCache(cache_path, cfg.thumb_size, cfg.profile_bins)
        image = cache.get(pool)
        cache.save()
    return build_matrix(pool, image, weights)


def select(x: np.ndarray, pool: Sequence[dict[str, Any]], cfg: SamplingConfig, strategy: str):
    if strategy == "random":
        return random_selection(len(pool), cfg.n, seed=cfg.seed)
    strata = [str(r.get("doc_type") or "unknown") for r in pool] if cfg.stratify else None
    return k_center_greedy(x, cfg.n, seed=cfg.seed, strata=strata)


def conditions(rec: dict[str, Any]) -> set[str]:
    """Capture/layout/language values of a record as `field=value`, for coverage counts."""
    out = {f"language={record_language(rec)}"}
    for key, value in flat_meta(rec.get("meta")).items():
        if key == "language":
            continue
        if isinstance(value, bool):
            out.add(f"{key}={str(value).lower()}")
        elif isinstance(value, (int, float)):
            out.add(f"{key}={'off' if value == 0 else 'on'}")
        else:
            out.add(f"{key}={value}")
    return out


def diversity_report(x: np.ndarray, pool: Sequence[dict[str, Any]], idx: Sequence[int]) -> dict[str, Any]:
    types_pool = Counter(str(r.get("doc_type") or "unknown") for r in pool)
    types_sel = Counter(str(pool[i].get("doc_type") or "unknown") for i in idx)
    cond_pool = set().union(*(conditions(r) for r in pool))
    cond_sel = set().union(*(conditions(pool[i]) for i in idx)) if idx else set()
    return {
        "n": len(idx),
        "doc_type_coverage": len(types_sel) / len(types_pool),
        "doc_types_covered": len(types_sel),
        "condition_coverage": len(cond_sel) / len(cond_pool) if cond_pool else 1.0,
        "conditions_missed": len(cond_pool - cond_sel),
        "doc_type_counts": dict(sorted(types_sel.items())),
        **pairwise_stats(x, idx),
    }


def sample_records(
    records: Sequence[dict[str, Any]],
    cfg: SamplingConfig,
    *,
    cache_path: str | Path | None = None,
    source: str = "records",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Selected records (each with a `selection` reason) and the diversity report of both strategies."""
    pool = candidate_pool(records, cfg, source)
    x = feature_matrix(pool, cfg, cache_path)
    runs = {s: select(x, pool, cfg, s) for s in ("diverse", "random")}
    report: dict[str, Any] = {
        "strategy": cfg.strategy,
        "pool_size": len(pool),
        "pool_doc_types": len({str(r.get("doc_type") or "unknown") for r in pool}),
        "feature_dims": int(x.shape[1]),
    }
    for name, (idx, _) in runs.items():
        report[name] = diversity_report(x, pool, idx)
    idx, reasons = runs[cfg.strategy]
    selected = []
    for i, reason in zip(idx, reasons, strict=True):
        rec = {k: v for k, v in pool[i].items() if k != "image_path"}
        rec["selection"] = {"strategy": cfg.strategy, **reason}
        selected.append(rec)
    return selected, report


def run_sample(
    cfg: SamplingConfig,
    *,
    records: str | Path,
    out: str | Path,
    metrics: str | Path,
    cache: str | Path | None,
) -> dict[str, Any]:
    """The `sample` stage: load the ingested records, select, write `out` and `metrics`; return the report.

    `cache` keeps image features by sha256 between runs (None: no cache)."""
    from medvie.data.records import RECORDS_FILE, load_records

    selected, report = sample_records(
        load_records(records), cfg, cache_path=cache, source=str(Path(records) / RECORDS_FILE)
    )
    write_jsonl(out, selected)
    write_json(metrics, report)
    chosen = report[cfg.strategy]
    log.info(
        "sample: %d of %d (%s), doc types %d/%d",
        chosen["n"],
        report["pool_size"],
        cfg.strategy,
        chosen["doc_types_covered"],
        report["pool_doc_types"],
    )
    return report
