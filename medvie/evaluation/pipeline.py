"""The evaluate stage: every configured model and baseline on the test queries, then every output."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from medvie.evaluation.config import EvaluateConfig
from medvie.evaluation.evaluate import evaluate, load_eval_queries, metrics_file, queries_hash
from medvie.evaluation.predictors import Predictor, model_predictor, ocr_predictor
from medvie.evaluation.report import write_plots, write_predictions, write_report
from medvie.io import write_json

log = logging.getLogger(__name__)


def build_predictors(
    cfg: EvaluateConfig, root: Path, schema: str | Path | None = None
) -> dict[str, Predictor]:
    """Predictors for `cfg.models` that exist under models/ (a missing one is skipped) and `cfg.baselines`."""
    predictors: dict[str, Predictor] = {}
    for name in cfg.models:
        model_dir = root / "models" / name
        if not model_dir.is_dir():
            log.warning("evaluate: models/%s not found, skipped", name)
            continue
        predictors[name] = model_predictor(
            model_dir, device=cfg.device, max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size
        )
    if "ocr_baseline" in cfg.baselines:
        text_dir = root / cfg.text_dir
        predictors["ocr_baseline"] = ocr_predictor(
            root / cfg.records, text_dir if text_dir.is_dir() else None, schema=schema
        )
    return predictors


def run_evaluate(
    cfg: EvaluateConfig,
    root: Path,
    *,
    reward_cfg: Any = None,
    predictors: Mapping[str, Predictor] | None = None,
    schema: str | Path | None = None,
    log_mlflow: bool = True,
) -> dict:
    """Evaluate, write metrics/eval.json, plots/eval/, reports/eval.md (+ assets), reports/predictions/;
    log to MLflow. Returns the metrics/eval.json body."""
    rows = load_eval_queries(root / cfg.queries, cfg.max_queries)
    if predictors is None:
        predictors = build_predictors(cfg, root, schema)
    results = evaluate(predictors, rows, reward_cfg)
    body = metrics_file(results)
    test_hash = queries_hash(rows)
    write_json(root / "metrics" / "eval.json", body)
    write_plots(results, root / "plots" / "eval")
    write_predictions(results, rows, root / "reports" / "predictions")
    header = {
        "queries": cfg.queries,
        "n": len(rows),
        "test_set_hash": test_hash,
        "strategies": ", ".join(sorted({r["strategy"] for r in rows})),
    }
    write_report(
        results,
        rows,
        root / "reports" / "eval.md",
        worst=cfg.worst_cases,
        thumb_side=cfg.thumb_side,
        header=header,
    )
    meta = {
        "test_set_hash": test_hash,
        "n_queries": len(rows),
        "queries": cfg.queries,
        "models": list(results),
    }
    if log_mlflow:
        meta["mlflow_run_id"] = _log(root, body, test_hash)
    write_json(root / "reports" / "eval_meta.json", meta)
    return body


def _log(root: Path, body: dict, test_hash: str) -> str:
    from medvie.evaluation.tracking import log_evaluation

    reports = root / "reports"
    return log_evaluation(
        root,
        root / "models" / "grpo" / "mlflow_run.json",
        body,
        {
            "eval": reports / "eval.md",
            "eval/eval_assets": reports / "eval_assets",
            "eval/predictions": reports / "predictions",
            "eval/metrics": root / "metrics" / "eval.json",
            "eval/plots": root / "plots" / "eval",
        },
        tags={"eval.test_set_hash": test_hash},
    )
