"""Run predictors on the test queries and score them with the rewards library's metrics."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medvie.errors import DataError
from medvie.evaluation.predictors import ModelPredictor, Predictor
from medvie.io import read_jsonl

log = logging.getLogger(__name__)

# headline numbers per model (and per strategy) in metrics/eval.json
HEADLINE = (
    "f1",
    "precision",
    "recall",
    "ted_accuracy",
    "ted_accuracy_unordered",
    "json_valid_rate",
    "format_rate",
    "hallucination_rate",
    "omission_rate",
    "macro_f1_doc_type",
    "macro_f1_key",
    "n",
)


def load_eval_queries(path: str | Path, max_queries: int = 0) -> list[dict]:
    """Query rows of a queries jsonl, `image_path` resolved against the file, truth parsed to a dict."""
    path = Path(path)
    rows = read_jsonl(path)
    if not rows:
        raise DataError(f"{path}: no queries; run the queries stage (queries.test_max > 0)")
    out = []
    for i, row in enumerate(rows[: max_queries or None], 1):
        missing = {"id", "image", "truth", "keys", "prompt"} - set(row)
        if missing:
            raise DataError(
                f"{path}:{i}: query lacks {sorted(missing)}; regenerate it with the queries stage"
            )
        truth = row["truth"]
        if isinstance(truth, str):
            try:
                truth = json.loads(truth)
            except json.JSONDecodeError:
                raise DataError(f"{path}:{i}: 'truth' is not valid JSON; regenerate the queries") from None
        out.append(
            {
                **row,
                "truth": truth,
                "image_path": str((path.parent / row["image"]).resolve()),
                "strategy": row.get("strategy", "subset"),
                "doc_type": row.get("doc_type", "unknown"),
            }
        )
    return out


def queries_hash(rows: Sequence[dict]) -> str:
    """Hash of exactly what was evaluated (ids, keys, truth): versions compare only on equal hashes."""
    h = hashlib.sha256()
    for r in rows:
        h.update(json.dumps([r["id"], r["keys"], r["truth"]], sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def _numeric(obj: Any) -> Any:
    """Keep numbers (and nested dicts of numbers) only: DVC metrics show numbers."""
    if isinstance(obj, bool):
        return float(obj)
    if isinstance(obj, (int, float)):
        return round(float(obj), 6) if isinstance(obj, float) else obj
    if isinstance(obj, Mapping):
        kept = {str(k): _numeric(v) for k, v in obj.items()}
        return {k: v for k, v in kept.items() if v is not None and v != {}}
    return None


def score(predictions: Sequence[Any], rows: Sequence[dict], reward_cfg: Any = None) -> dict:
    """Metrics over all rows and per strategy; per-query F1 in `per_query` (not written to eval.json)."""
    from medvie.rewards.metrics import evaluate_predictions

    def run(idx: Sequence[int], docs: bool = False) -> dict:
        return evaluate_predictions(
            [predictions[i] for i in idx],
            [rows[i]["truth"] for i in idx],
            doc_types=[rows[i]["doc_type"] for i in idx],
            asked_keys=[rows[i]["keys"] for i in idx],
            thinking=[bool(rows[i].get("thinking", True)) for i in idx],
            cfg=reward_cfg,
            return_docs=docs,
        )

    full = run(range(len(rows)), docs=True)
    result = {k: full[k] for k in HEADLINE if k in full}
    result["by_strategy"] = {}
    for strategy in sorted({r["strategy"] for r in rows}):
        m = run([i for i, r in enumerate(rows) if r["strategy"] == strategy])
        result["by_strategy"][strategy] = {k: m[k] for k in HEADLINE if k in m}
    groups = sorted({r.get("family_group") or "" for r in rows} - {""})
    if groups:  # leave-family-out: forms of families never trained on, beside the trained-on ones
        result["by_family_group"] = {}
        for group in groups:
            m = run([i for i, r in enumerate(rows) if r.get("family_group") == group])
            result["by_family_group"][group] = {k: m[k] for k in HEADLINE if k in m}
    result["per_doc_type"] = full.get("per_doc_type", {})
    result["per_key"] = full.get("per_key", {})
    result["per_query"] = [float(d.get("f1", 0.0)) for d in full.get("docs", [])] or [
        run([i])["f1"] for i in range(len(rows))
    ]
    return result


def run_predictor(name: str, predictor: Predictor, rows: Sequence[dict]) -> tuple[list[Any], float]:
    """Predictions and seconds spent."""
    t0 = time.perf_counter()
    preds = predictor(rows)
    if len(preds) != len(rows):
        raise DataError(f"{name}: {len(preds)} predictions for {len(rows)} queries")
    return list(preds), time.perf_counter() - t0


def evaluate(
    predictors: Mapping[str, Predictor], rows: Sequence[dict], reward_cfg: Any = None, workers: int = 1
) -> dict[str, dict]:
    """{model: {"metrics": ..., "predictions": [...], "seconds": s}} for every predictor.

    `workers` > 1: the models answer in that many processes of their own at once (each loads its model;
    the same answers as one after another); the other predictors run here meanwhile."""
    log.info("evaluating %s on %d queries", ", ".join(predictors), len(rows))
    answers = _answer_all(predictors, rows, workers)
    results = {}
    for name in predictors:
        preds, seconds = answers[name]
        metrics = score(preds, rows, reward_cfg)
        metrics["queries_per_s"] = len(rows) / seconds if seconds > 0 else 0.0
        results[name] = {"metrics": metrics, "predictions": preds, "seconds": seconds}
    return results


def _answer_all(
    predictors: Mapping[str, Predictor], rows: Sequence[dict], workers: int
) -> dict[str, tuple[list[Any], float]]:
    apart = [n for n, p in predictors.items() if isinstance(p, ModelPredictor)] if workers > 1 else []
    if len(apart) < 2:  # one model gains nothing from a process of its own
        return {name: run_predictor(name, p, rows) for name, p in predictors.items()}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: a fresh interpreter per worker (a forked torch can hang in its thread pools)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(apart)), mp_context=context) as pool:
        futures = {name: pool.submit(run_predictor, name, predictors[name], rows) for name in apart}
        here = {name: run_predictor(name, p, rows) for name, p in predictors.items() if name not in futures}
        return {**here, **{name: future.result() for name, future in futures.items()}}


def metrics_file(results: Mapping[str, dict]) -> dict:
    """The metrics/eval.json body: flat-ish numbers per model."""
    out = {}
    for name, res in results.items():
        m = res["metrics"]
        body = {k: m[k] for k in HEADLINE if k in m}
        body["by_strategy"] = m.get("by_strategy", {})
        if "by_family_group" in m:  # leave-family-out: in-family vs held-out families
            body["by_family_group"] = m["by_family_group"]
        body["per_doc_type"] = {
            dt: {k: v for k, v in (vals or {}).items() if k in ("f1", "precision", "recall", "n")}
            for dt, vals in m.get("per_doc_type", {}).items()
            if isinstance(vals, Mapping)
        }
        body["queries_per_s"] = m.get("queries_per_s", 0.0)
        out[name] = _numeric(body)
    return out
