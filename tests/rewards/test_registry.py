import json

import pytest

from medvie.errors import DataError
from medvie.rewards.config import RewardConfig
from medvie.rewards.registry import build_reward_funcs, get_reward_func, reward_names

TRUTH = json.dumps({"Age": "45", "Name": "Li", "Gender": "Male"})
GOOD = '<think>x</think><answer>{"Age": "45", "Name": "Li"}</answer>'


def test_registry_names_and_weights():
    assert {"format", "matching", "precision", "recall", "f1"} <= set(reward_names())
    funcs, weights = build_reward_funcs(RewardConfig(funcs=["format", "matching", "f1"], weights=[0.5, 1, 2]))
    assert [f.__name__ for f in funcs] == ["format_reward", "matching_reward", "f1_reward"]
    assert weights == [0.5, 1.0, 2.0]
    with pytest.raises(ValueError):
        RewardConfig(funcs=["format"], weights=[1, 2])
    with pytest.raises(ValueError):
        RewardConfig(funcs=["nope"])


def test_trl_call_shape_with_log_metric_and_thinking_column():
    logged = {}
    funcs, _ = build_reward_funcs(RewardConfig())
    completions = [
        [{"role": "assistant", "content": GOOD}],
        [{"role": "assistant", "content": "garbage"}],
        [{"role": "assistant", "content": '<answer>{"Age": "45"}</answer>'}],
    ]
    kwargs = dict(
        prompts=[[]] * 3,
        truth=[TRUTH] * 3,
        thinking=[True, True, False],
        completion_ids=[[1]] * 3,
        trainer_state=None,
        log_extra=lambda c, v: None,
        log_metric=lambda n, v: logged.setdefault(n, v),
    )
    fmt, match = (f(completions=completions, **kwargs) for f in funcs)
    assert fmt == [1.0, 0.0, 1.0]
    assert match == pytest.approx([0.5 * 1 + 0.5 * 2 / 3, 0.0, 0.5 + 0.5 / 3])
    assert logged["reward/format"] == pytest.approx(2 / 3)
    assert {"reward/precision", "reward/recall", "reward/f1", "reward/json_valid"} <= set(logged)


def test_works_without_log_metric_and_with_dict_truth():
    f = get_reward_func("precision")
    assert f([GOOD], truth=[{"Age": "45", "Name": "Lee"}]) == [0.5]


def test_missing_truth_column_is_a_clear_error():
    with pytest.raises(DataError, match="truth"):
        get_reward_func("format")([GOOD])
