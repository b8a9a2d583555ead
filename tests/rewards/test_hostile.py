import json

import pytest

from medvie.rewards.config import RewardConfig
from medvie.rewards.metrics import evaluate_predictions
from medvie.rewards.registry import build_reward_funcs

TRUTH = json.dumps({"Age": "45", "Indicators": [{"Item Name": "WBC", "Result": "5"}]})

HOSTILE = [
    "x" * 1_000_000,
    "<think>" + "a" * 500_000 + "</think><answer>" + "{" * 5000 + "</answer>",
    "<think>t</think><answer>" + "[" * 10_000 + "]" * 10_000 + "</answer>",
    "<think>t</think><answer>" + '{"a":' * 10_000 + "1" + "}" * 10_000 + "</answer>",
    '<think>t</think><answer>{"Age": NaN, "x": Infinity, "y": -Infinity}</answer>',
    '<think>t</think><answer>{"Age": "45", "Age": "46"}</answer>',
    '<think>t</think><answer>{"Age": "4\x005\x07", "Name": "a\nb\tc"}</answer>',
    "<think>" * 50_000 + "</answer>" * 50_000,
    "<answer>" * 30_000 + "</think>" * 30_000,
    "```" * 100_000,
    '<think>t</think><answer>{"Indicators": ['
    + ",".join([f'{{"Item Name": "WBC", "Result": "{i}"}}' for i in range(3000)])
    + "]}</answer>",
    '<think>t</think><answer>{"Age": 1' + "0" * 5000 + "}</answer>",
    None,
    12,
    ["not", "messages"],
    [{"role": "assistant", "content": None}],
]


@pytest.mark.parametrize("matching", ["exact", "fuzzy"])
def test_hostile_completions_get_valid_scores(matching):
    funcs, _ = build_reward_funcs(RewardConfig(matching=matching))
    for f in funcs:
        out = f(HOSTILE, truth=[TRUTH] * len(HOSTILE))
        assert len(out) == len(HOSTILE)
        assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in out)
    assert funcs[0](HOSTILE, truth=[TRUTH] * len(HOSTILE))[6] == 1.0  # control chars: still valid JSON


def test_hostile_predictions_in_metrics():
    preds = [h if isinstance(h, (str, dict)) else None for h in HOSTILE]
    m = evaluate_predictions(preds, [json.loads(TRUTH)] * len(preds))
    assert 0.0 <= m["f1"] <= 1.0 and 0.0 <= m["ted_accuracy"] <= 1.0
