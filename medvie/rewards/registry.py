"""Reward functions by name, in TRL's shape: `fn(completions, **kwargs) -> list[float]`.

The ground truth comes from the dataset column `truth` (JSON string or dict); the optional
`thinking` column says per query whether `<think>` is required. When the trainer passes
`log_metric` (TRL's GRPOTrainer does), each function reports its parts (format, json_valid,
precision, recall, f1) as batch means, so they are tracked apart from the summed reward.

>>> from medvie.rewards.config import RewardConfig
>>> funcs, weights = build_reward_funcs(RewardConfig(alpha=1.0))
>>> [f.__name__ for f in funcs], weights
(['format_reward', 'matching_reward'], [1.0, 1.0])
>>> good = '<think>ok</think><answer>{"Age": "45"}</answer>'
>>> [f([good, "no idea"], truth=['{"Age": "45", "Name": "Li"}'] * 2) for f in funcs]
[[1.0, 0.0], [1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from medvie.errors import ConfigError, DataError
from medvie.rewards.config import RewardConfig
from medvie.rewards.reward import Score, matcher_for, score_completion

RewardFunc = Callable[..., list[float]]
# a factory takes the config and, optionally, a batch scorer shared with the other functions
_REGISTRY: dict[str, Callable[..., RewardFunc]] = {}


def register(name: str) -> Callable:
    """Decorator: add a factory `cfg -> reward function` under `name`."""

    def deco(factory: Callable[[RewardConfig], RewardFunc]) -> Callable[[RewardConfig], RewardFunc]:
        _REGISTRY[name] = factory
        return factory

    return deco


def reward_names() -> list[str]:
    return sorted(_REGISTRY)


class _BatchScorer:
    """Scores a batch once for all reward functions of one config.

    TRL calls every reward function with the same `completions` list object, so the last batch
    is kept (held by reference, compared by identity) and the second function costs nothing.
    """

    def __init__(self, cfg: RewardConfig):
        self.cfg = cfg
        self.matcher = matcher_for(cfg)
        self._last: tuple[Any, Any, list[Score]] | None = None

    def __call__(self, completions: list, kwargs: dict) -> list[Score]:
        truths = kwargs.get("truth")
        if truths is None:
            raise DataError(
                "reward functions need a `truth` column in the training data set; rebuild the queries"
            )
        if len(truths) != len(completions):
            raise DataError(f"{len(completions)} completions but {len(truths)} truths")
        last = self._last
        if last is not None and last[0] is completions and last[1] is truths:
            return last[2]
        thinking = kwargs.get("thinking") or [None] * len(completions)
        scores = [
            score_completion(c, t, self.cfg, thinking=th, matcher=self.matcher)
            for c, t, th in zip(completions, truths, thinking, strict=False)
        ]
        self._last = (completions, truths, scores)
        return scores


def _log(kwargs: dict, scores: list[Score], parts: tuple[str, ...]) -> None:
    log_metric = kwargs.get("log_metric")
    if log_metric is None or not scores:
        return
    for part in parts:
        log_metric(f"reward/{part}", sum(float(getattr(s, part)) for s in scores) / len(scores))


def _make(name: str, value: Callable[[Score], float], parts: tuple[str, ...], doc: str):
    def factory(cfg: RewardConfig, scorer: _BatchScorer | None = None) -> RewardFunc:
        scorer = scorer or _BatchScorer(cfg)

        def reward(completions: list, **kwargs: Any) -> list[float]:
            scores = scorer(completions, kwargs)
            _log(kwargs, scores, parts)
            return [value(s) for s in scores]

        reward.__name__ = reward.__qualname__ = f"{name}_reward"
        reward.__doc__ = doc
        return reward

    register(name)(factory)


_make(
    "format",
    lambda s: s.format,
    ("format", "json_valid"),
    "1 if <think>…</think><answer>{JSON}</answer>, else 0.",
)
_make("precision", lambda s: s.precision, ("precision",), "n/|S_p| (0 when nothing was predicted).")
_make(
    "recall", lambda s: s.recall if s.n_pred else 0.0, ("recall",), "n/|S_g| (0 when nothing was predicted)."
)
_make("f1", lambda s: s.f1, ("f1",), "Field-level F1 of one completion.")


def _matching_factory(cfg: RewardConfig, scorer: _BatchScorer | None = None) -> RewardFunc:
    scorer = scorer or _BatchScorer(cfg)

    def matching_reward(completions: list, **kwargs: Any) -> list[float]:
        """α·precision + (1−α)·recall (or F-β), 0 when nothing was predicted."""
        scores = scorer(completions, kwargs)
        _log(kwargs, scores, ("precision", "recall", "f1"))
        return [s.match_reward(cfg) for s in scores]

    return matching_reward


register("matching")(_matching_factory)


def get_reward_func(name: str, cfg: RewardConfig | None = None) -> RewardFunc:
    if name not in _REGISTRY:
        raise ConfigError(f"reward.funcs: unknown reward {name!r} (known: {', '.join(reward_names())})")
    return _REGISTRY[name](cfg or RewardConfig())


def build_reward_funcs(cfg: RewardConfig) -> tuple[list[RewardFunc], list[float]]:
    """The configured reward functions (sharing one batch scorer) and their weights."""
    unknown = [n for n in cfg.funcs if n not in _REGISTRY]
    if unknown:
        raise ConfigError(f"reward.funcs: unknown reward {unknown[0]!r} (known: {', '.join(reward_names())})")
    scorer = _BatchScorer(cfg)
    return [_REGISTRY[n](cfg, scorer) for n in cfg.funcs], cfg.resolved_weights()
