"""The `evaluate` stage as a library call: every configured model and baseline on the test queries,
then every output."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from medvie.evaluation.config import EvaluateConfig
from medvie.evaluation.evaluate import evaluate, load_eval_queries, metrics_file, queries_hash
from medvie.evaluation.predictors import (
    ModelPredictor,
    Predictor,
    generation_tags,
    ocr_predictor,
    predictor_settings,
)
from medvie.evaluation.report import write_plots, write_predictions, write_report
from medvie.io import write_json
from medvie.log import shown

log = logging.getLogger(__name__)


def build_predictors(
    cfg: EvaluateConfig,
    *,
    models: Path,
    records: Path,
    text: Path | None,
    schema: str | Path | None = None,
) -> dict[str, Predictor]:
    """Predictors for `cfg.models` found in `models/<name>` (a missing one is skipped) and `cfg.baselines`."""
    predictors: dict[str, Predictor] = {}
    for name in cfg.models:
        model_dir = Path(models) / name
        if not model_dir.is_dir():
            log.warning("evaluate: %s not found, skipped", shown(model_dir))
            continue
        predictors[name] = ModelPredictor(model_dir, **predictor_settings(cfg))  # loads when it answers
    if "ocr_baseline" in cfg.baselines:
        predictors["ocr_baseline"] = ocr_predictor(
            records, text if text is not None and Path(text).is_dir() else None, schema=schema
        )
    return predictors


def run_evaluate(
    cfg: EvaluateConfig,
    reward_cfg: Any,
    *,
    queries: Path,
    records: Path,
    text: Path | None,
    schema: Path | None,
    models: Path,
    mlflow_run: Path,
    metrics: Path,
    plots: Path,
    report: Path,
    predictions: Path,
    meta: Path,
    predictors: Mapping[str, Predictor] | None = None,
    log_mlflow: bool = True,
) -> dict:
    """The `evaluate` stage: every model and baseline on the test `queries`; write `metrics` (the
    metrics/eval.json body, returned), `plots`, `report` (+ its assets folder), `predictions` and
    `meta`; log into the MLflow run named in `mlflow_run` (else a new one) of the project's store.

    `predictors` replace the ones built from `cfg` (tests, custom models)."""
    rows = load_eval_queries(queries, cfg.max_queries)
    if predictors is None:
        predictors = build_predictors(cfg, models=models, records=records, text=text, schema=schema)
    results = evaluate(predictors, rows, reward_cfg, workers=cfg.workers)
    body = metrics_file(results)
    test_hash = queries_hash(rows)
    write_json(metrics, body)
    write_plots(results, Path(plots))
    write_predictions(results, rows, Path(predictions))
    header = {
        "queries": cfg.queries,
        "n": len(rows),
        "test_set_hash": test_hash,
        "strategies": ", ".join(sorted({r["strategy"] for r in rows})),
    }
    write_report(
        results,
        rows,
        Path(report),
        worst=cfg.worst_cases,
        thumb_side=cfg.thumb_side,
        header=header,
    )
    info = {
        "test_set_hash": test_hash,
        "n_queries": len(rows),
        "queries": cfg.queries,
        "models": list(results),
    }
    if log_mlflow:
        from medvie.env import project_root
        from medvie.evaluation.tracking import log_evaluation

        report = Path(report)
        info["mlflow_run_id"] = log_evaluation(
            project_root(),  # whose MLflow store (medvie.env.mlflow_uris)
            Path(mlflow_run),
            body,
            {
                "eval": report,
                "eval/eval_assets": report.parent / f"{report.stem}_assets",
                "eval/predictions": Path(predictions),
                "eval/metrics": Path(metrics),
                "eval/plots": Path(plots),
            },
            tags={"eval.test_set_hash": test_hash, **generation_tags(cfg)},
        )
    write_json(meta, info)
    for name, m in body.items():
        log.info(
            "evaluate: %-14s F1 %.4f  P %.4f  R %.4f  n %d",
            name,
            m.get("f1", 0),
            m.get("precision", 0),
            m.get("recall", 0),
            m.get("n", 0),
        )
    return body
