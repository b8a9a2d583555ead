"""`medvie` commands of the rewards area: `medvie score`."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def _by_id(rows: list, path: Path, field: str) -> dict[str, dict]:
    from medvie.errors import DataError

    out: dict[str, dict] = {}
    for lineno, row in enumerate(rows, 1):
        if not isinstance(row, dict) or "id" not in row or field not in row:
            raise DataError(f'{path}: record {lineno} needs "id" and "{field}"; fix that line')
        key = str(row["id"])
        if key in out:
            raise DataError(f"{path}: id {key!r} appears twice; keep one line per id")
        out[key] = row
    return out


def score(
    predictions: Path = typer.Option(
        ..., "--predictions", help='JSONL: {"id", "prediction": completion text or JSON object}'
    ),
    truth: Path = typer.Option(..., "--truth", help='JSONL: {"id", "label": {...}, "doc_type"?, "keys"?}'),
    alpha: float = typer.Option(0.5, min=0, max=1, help="α of the match reward reported as mean_reward"),
    matching: str = typer.Option("exact", help="exact | fuzzy"),
    fuzzy_threshold: float = typer.Option(
        0.9, min=0.01, max=1, help="fuzzy: least normalised edit similarity"
    ),
    case_fold: bool = typer.Option(
        False, "--case-fold/--no-case-fold", help="compare values case-insensitively"
    ),
    ordered: bool = typer.Option(
        False, "--ordered", help="match list items by index, not by best assignment"
    ),
    require_thinking: bool = typer.Option(False, "--require-thinking", help="format needs <think>…</think>"),
    f_beta: float | None = typer.Option(None, help="report the match reward as F-β instead of the α mix"),
    per_doc: bool = typer.Option(False, "--per-doc", help="include per-document scores"),
) -> None:
    """Score predictions against ground truth; prints one JSON object
    (precision, recall, f1, ted_accuracy, …)."""
    from pydantic import ValidationError

    from medvie.errors import ConfigError
    from medvie.io import read_jsonl
    from medvie.rewards.config import RewardConfig
    from medvie.rewards.metrics import evaluate_predictions

    try:
        cfg = RewardConfig(
            alpha=alpha,
            matching=matching,
            fuzzy_threshold=fuzzy_threshold,
            case_fold=case_fold,
            unordered=not ordered,
            require_thinking=require_thinking,
            f_beta=f_beta,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"--{'-'.join(map(str, err['loc'])).replace('_', '-')}: {err['msg']}") from None
    preds = _by_id(read_jsonl(predictions), predictions, "prediction")
    truths = _by_id(read_jsonl(truth), truth, "label")
    ids = list(truths) + [i for i in preds if i not in truths]
    missing_pred = [i for i in truths if i not in preds]
    missing_truth = [i for i in preds if i not in truths]
    result = evaluate_predictions(
        [preds[i]["prediction"] if i in preds else None for i in ids],
        [truths[i]["label"] if i in truths else {} for i in ids],
        doc_types=[str(truths.get(i, {}).get("doc_type") or "unknown") for i in ids],
        asked_keys=[truths[i].get("keys") if i in truths else [] for i in ids],
        cfg=cfg,
        return_docs=True,
    )
    from medvie.rewards.reward import Score

    docs = result.pop("docs")
    rewards = [
        Score(float(d["format_ok"]), d["json_valid"], d["n"], d["n_pred"], d["n_truth"]).match_reward(cfg)
        for d in docs
    ]
    result["mean_reward"] = sum(rewards) / len(rewards) if rewards else 0.0
    if per_doc:
        result["docs"] = [{"id": i, **d} for i, d in zip(ids, docs, strict=True)]
    result["missing_predictions"] = missing_pred
    result["missing_truth"] = missing_truth
    typer.echo(json.dumps(result, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("score")(score)
