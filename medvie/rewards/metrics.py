"""Evaluation metrics over a set of predictions, sharing the reward's parsing and matching.

Field-level micro precision / recall / F1 (pairs summed over documents, as Donut's cal_f1 and
the paper do), macro F1 per doc type and per top-level key, Donut's TED accuracy and an
order-insensitive variant (predicted list items first put in the order of the true items they
are assigned to), JSON-valid rate, format rate, hallucinated-key rate (non-empty top-level keys
predicted but not asked for) and omission rate (asked keys with a non-empty truth that the
prediction leaves out or empty).

>>> m = evaluate_predictions(['<answer>{"Age": "45", "Pet": "cat"}</answer>'], [{"Age": "45", "Name": "Li"}])
>>> m["precision"], m["recall"], m["hallucination_rate"], m["omission_rate"]
(0.5, 0.5, 0.5, 0.5)
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from medvie.rewards.config import RewardConfig
from medvie.rewards.flatten import canonicalize
from medvie.rewards.match import Matcher, per_key_counts
from medvie.rewards.normalize import normalize_key
from medvie.rewards.reward import matcher_for, truth_tree
from medvie.rewards.ted import ted_accuracy


def _prf(n: int, n_pred: int, n_truth: int) -> dict[str, float]:
    p = n / n_pred if n_pred else 0.0
    r = n / n_truth if n_truth else (1.0 if not n_pred else 0.0)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def align_lists(pred: Any, truth: Any, matcher: Matcher, case_fold: bool = False) -> Any:
    """`pred` with every list's items put in the order of the true items they are assigned to
    (unassigned ones last); used for the order-insensitive TED accuracy."""
    if isinstance(pred, dict) and isinstance(truth, dict):
        return {k: align_lists(v, truth[k], matcher, case_fold) if k in truth else v for k, v in pred.items()}
    if not (isinstance(pred, list) and isinstance(truth, list)):
        return pred
    ps = [(x, c) for x in pred if (c := canonicalize(x, case_fold)) is not None]
    gs = [(x, c) for x in truth if (c := canonicalize(x, case_fold)) is not None]
    if not ps or not gs:
        return [x for x, _ in ps]
    order = Matcher("exact" if not matcher.fuzzy else "fuzzy", matcher.threshold, unordered=True)
    pairs = order.assign([c for _, c in ps], [c for _, c in gs])
    used = {i for i, _, _ in pairs}
    out = [
        align_lists(ps[i][0], gs[j][0], matcher, case_fold) for i, j, _ in sorted(pairs, key=lambda t: t[1])
    ]
    return out + [ps[i][0] for i in range(len(ps)) if i not in used]


def document_scores(
    prediction: str | dict | None,
    truth: Any,
    cfg: RewardConfig,
    matcher: Matcher,
    *,
    thinking: bool | None = None,
    asked_keys: list[str] | None = None,
) -> dict[str, Any]:
    """All per-document numbers; `prediction` None means missing (scored as an empty answer)."""
    require = cfg.require_thinking if cfg.require_thinking is not None else bool(thinking)
    if prediction is None:
        answer, format_ok = None, False
    else:
        parsed = cfg.parse(prediction, require)
        answer = parsed.answer
        format_ok = parsed.format_ok or (isinstance(prediction, dict) and parsed.json_valid)
    truth_obj = truth_tree_raw(truth)
    g = truth_tree(truth_obj, cfg.case_fold)
    p = canonicalize(answer, cfg.case_fold) if answer is not None else None
    keys = per_key_counts(p, g, matcher)
    n = sum(v[0] for v in keys.values())
    n_pred = sum(v[1] for v in keys.values())
    n_truth = sum(v[2] for v in keys.values())
    asked = {
        normalize_key(str(k), cfg.case_fold) for k in (asked_keys if asked_keys is not None else truth_obj)
    }
    predicted_keys = set(p) if isinstance(p, dict) else set()
    truth_keys = (set(g) if isinstance(g, dict) else set()) & asked
    pred_dict = answer if isinstance(answer, dict) else {}
    return {
        "n": n,
        "n_pred": n_pred,
        "n_truth": n_truth,
        **_prf(n, n_pred, n_truth),
        "json_valid": answer is not None,
        "format_ok": bool(format_ok),
        "ted_accuracy": ted_accuracy(pred_dict, truth_obj),
        "ted_accuracy_unordered": ted_accuracy(
            align_lists(pred_dict, truth_obj, matcher, cfg.case_fold), truth_obj
        ),
        "keys_predicted": len(predicted_keys),
        "keys_hallucinated": len(predicted_keys - asked),
        "keys_truth": len(truth_keys),
        "keys_omitted": len(truth_keys - predicted_keys),
        "per_key": keys,
    }


def truth_tree_raw(truth: Any) -> dict:
    """The ground truth as a dict (JSON strings decoded)."""
    if isinstance(truth, str):
        truth = json.loads(truth)
    return truth if isinstance(truth, dict) else {}


def evaluate_predictions(
    predictions: list[str | dict | None],
    truths: list[Any],
    *,
    doc_types: list[str] | None = None,
    asked_keys: list[list[str] | None] | None = None,
    thinking: list[bool] | None = None,
    cfg: RewardConfig | None = None,
    return_docs: bool = False,
) -> dict[str, Any]:
    """Aggregate metrics; a None prediction is a missing one (counted as misses)."""
    cfg = cfg or RewardConfig()
    if len(predictions) != len(truths):
        raise ValueError(f"{len(predictions)} predictions but {len(truths)} truths")
    matcher = matcher_for(cfg)
    n_docs = len(truths)
    docs = [
        document_scores(
            pred,
            truth,
            cfg,
            matcher,
            thinking=thinking[i] if thinking else None,
            asked_keys=asked_keys[i] if asked_keys else None,
        )
        for i, (pred, truth) in enumerate(zip(predictions, truths, strict=True))
    ]
    tot: defaultdict[str, int] = defaultdict(int)
    by_type: dict[str, list] = defaultdict(list)
    by_key: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for i, d in enumerate(docs):
        for name in (
            "n",
            "n_pred",
            "n_truth",
            "keys_predicted",
            "keys_hallucinated",
            "keys_truth",
            "keys_omitted",
        ):
            tot[name] += d[name]
        by_type[doc_types[i] if doc_types else "all"].append(d)
        for key, counts in d["per_key"].items():
            acc = by_key[key]
            for k in range(3):
                acc[k] += counts[k]

    def mean(name: str, ds: list) -> float:
        return sum(float(d[name]) for d in ds) / len(ds) if ds else 0.0

    per_doc_type = {}
    for dt, ds in sorted(by_type.items()):
        per_doc_type[dt] = {
            "n": len(ds),
            **_prf(sum(d["n"] for d in ds), sum(d["n_pred"] for d in ds), sum(d["n_truth"] for d in ds)),
            "ted_accuracy": mean("ted_accuracy", ds),
        }
    per_key = {k: {"support": v[2], "predicted": v[1], **_prf(*v)} for k, v in sorted(by_key.items())}
    out: dict[str, Any] = {
        "n": n_docs,
        **_prf(tot["n"], tot["n_pred"], tot["n_truth"]),
        "ted_accuracy": mean("ted_accuracy", docs),
        "ted_accuracy_unordered": mean("ted_accuracy_unordered", docs),
        "json_valid_rate": mean("json_valid", docs),
        "format_rate": mean("format_ok", docs),
        "hallucination_rate": tot["keys_hallucinated"] / tot["keys_predicted"]
        if tot["keys_predicted"]
        else 0.0,
        "omission_rate": tot["keys_omitted"] / tot["keys_truth"] if tot["keys_truth"] else 0.0,
        "macro_f1_doc_type": mean("f1", list(per_doc_type.values())),
        "macro_f1_key": mean("f1", [v for v in per_key.values() if v["support"]]),
        "pairs": {"matched": tot["n"], "predicted": tot["n_pred"], "truth": tot["n_truth"]},
        "per_doc_type": per_doc_type,
        "per_key": per_key,
    }
    if return_docs:
        out["docs"] = [{k: v for k, v in d.items() if k != "per_key"} for d in docs]
    return out
