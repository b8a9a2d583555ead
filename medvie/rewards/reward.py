"""Scoring one completion against its ground truth: format, precision, recall, r_match.

r_match = α·n/|S_p| + (1−α)·n/|S_g|, and 0 when S_p is empty (the paper's rule); or F-β when
`RewardConfig.f_beta` is set.

>>> from medvie.rewards.config import RewardConfig
>>> cfg = RewardConfig(alpha=1.0)
>>> s = score_completion('<think>.</think><answer>{"Age": "45"}</answer>', {"Age": "45", "Name": "Li"}, cfg)
>>> s.format, s.precision, s.recall, s.match_reward(cfg)
(1.0, 1.0, 0.5, 1.0)
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, NamedTuple

from medvie.errors import DataError
from medvie.rewards.config import RewardConfig
from medvie.rewards.flatten import Node, canonicalize_count
from medvie.rewards.match import Matcher


class Score(NamedTuple):
    format: float  # 1.0 when tags and JSON are exactly as required
    json_valid: bool
    n: int  # matched pairs
    n_pred: int  # |S_p|
    n_truth: int  # |S_g|

    @property
    def precision(self) -> float:
        return self.n / self.n_pred if self.n_pred else 0.0

    @property
    def recall(self) -> float:
        if not self.n_truth:
            return 1.0 if not self.n_pred else 0.0
        return self.n / self.n_truth

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def match_reward(self, cfg: RewardConfig) -> float:
        if not self.n_pred:
            return 0.0
        if cfg.gate_on_format and not self.format:
            return 0.0
        p, r = self.precision, self.recall
        if cfg.f_beta is not None:
            b2 = cfg.f_beta**2
            return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0
        return cfg.alpha * p + (1 - cfg.alpha) * r


@lru_cache(maxsize=4096)
def _truth_from_json(text: str, case_fold: bool) -> tuple[Node | None, int]:
    try:
        obj = json.loads(text)
    except ValueError:
        raise DataError(f"ground truth is not valid JSON: {text[:80]!r}; regenerate the queries") from None
    return _truth_counted(obj, case_fold)


def _truth_counted(truth: Any, case_fold: bool) -> tuple[Node | None, int]:
    if isinstance(truth, str):
        return _truth_from_json(truth, case_fold)
    if truth is None:
        return None, 0
    if not isinstance(truth, dict):
        raise DataError(f"ground truth must be a JSON object, got {type(truth).__name__}")
    return canonicalize_count(truth, case_fold)


def truth_tree(truth: Any, case_fold: bool = False) -> Node | None:
    """The canonical tree of a ground truth given as a JSON string or a dict (string form cached)."""
    return _truth_counted(truth, case_fold)[0]


def matcher_for(cfg: RewardConfig) -> Matcher:
    return Matcher(cfg.matching, cfg.fuzzy_threshold, cfg.unordered)


def score_completion(
    completion: Any,
    truth: Any,
    cfg: RewardConfig | None = None,
    *,
    thinking: bool | None = None,
    matcher: Matcher | None = None,
) -> Score:
    """Score one completion (string, messages, or a decoded dict). Never raises on the completion."""
    cfg = cfg or RewardConfig()
    matcher = matcher or matcher_for(cfg)
    require = (
        cfg.require_thinking if cfg.require_thinking is not None else (True if thinking is None else thinking)
    )
    case_fold = cfg.case_fold
    g, n_truth = _truth_counted(truth, case_fold)
    parsed = cfg.parse(completion, require)
    p, n_pred = canonicalize_count(parsed.answer, case_fold) if parsed.answer is not None else (None, 0)
    if n_pred > cfg.max_pairs:
        return Score(0.0, False, 0, 0, n_truth)
    return Score(float(parsed.format_ok), parsed.json_valid, matcher.match(p, g), n_pred, n_truth)
