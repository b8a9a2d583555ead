"""reward.duplicate_keys: an answer object naming a key twice, in the training reward and in the
evaluation metrics alike (both read completions with the one parser, `parse_completion`)."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from medvie.errors import ConfigError
from medvie.rewards.config import RewardConfig
from medvie.rewards.metrics import document_scores, evaluate_predictions
from medvie.rewards.normalize import normalize_key
from medvie.rewards.parse import parse_completion
from medvie.rewards.registry import build_reward_funcs
from medvie.rewards.reward import matcher_for, score_completion
from medvie.settings import parse_params

TRUTH = {"Gender": "F", "Age": "45"}
SAME_TWICE = '<think>t</think><answer>{"Gender": "F", "Gender": "F", "Age": "45"}</answer>'


def _rewards(completion: str, policy: str, truth: dict = TRUTH) -> list[float]:
    funcs, _ = build_reward_funcs(RewardConfig(duplicate_keys=policy))
    return [f([completion], truth=[json.dumps(truth)])[0] for f in funcs]


def test_default_rejects_a_repeated_key_in_reward_and_metrics():
    assert RewardConfig().duplicate_keys == "reject"
    assert _rewards(SAME_TWICE, "reject") == [0.0, 0.0]  # format, matching
    m = evaluate_predictions([SAME_TWICE], [TRUTH], thinking=[True])
    assert (m["f1"], m["json_valid_rate"], m["format_rate"]) == (0.0, 0.0, 0.0)


def test_last_keeps_the_last_value_in_reward_and_metrics():
    assert _rewards(SAME_TWICE, "last") == [1.0, 1.0]
    cfg = RewardConfig(duplicate_keys="last")
    m = evaluate_predictions([SAME_TWICE], [TRUTH], thinking=[True], cfg=cfg)
    assert (m["f1"], m["json_valid_rate"], m["format_rate"]) == (1.0, 1.0, 1.0)
    # two values: the last one is the answer, as json.loads reads it
    right_last = '<think>t</think><answer>{"Gender": "M", "Gender": "F"}</answer>'
    wrong_last = '<think>t</think><answer>{"Gender": "F", "Gender": "M"}</answer>'
    assert _rewards(right_last, "last", {"Gender": "F"}) == [1.0, 1.0]
    assert _rewards(wrong_last, "last", {"Gender": "F"}) == [1.0, 0.0]
    assert _rewards(right_last, "reject", {"Gender": "F"}) == [0.0, 0.0]


def test_a_repeat_inside_a_row_rejects_the_whole_answer():
    text = '<answer>{"Age": "45", "Indicators": [{"Result": "1", "Result": "1"}]}</answer>'
    truth = {"Age": "45", "Indicators": [{"Result": "1"}]}
    assert parse_completion(text, require_thinking=False).answer is None
    last = parse_completion(text, require_thinking=False, duplicate_keys="last")
    assert last.answer == truth and last.format_ok


def test_the_policy_is_a_checked_param():
    assert parse_params({"reward": {"duplicate_keys": "last"}}).reward.duplicate_keys == "last"
    with pytest.raises(ConfigError, match="reward.duplicate_keys"):
        parse_params({"reward": {"duplicate_keys": "first"}})
    with pytest.raises(ValueError, match="duplicate_keys"):
        parse_completion("{}", duplicate_keys="first")


# JSON values of the kind a model writes, objects serialised with keys repeated at any depth;
# no "<" or "`" in strings, so the tags and the fence around the JSON stay where the wrapper put them.
_chars = st.characters(exclude_characters="<`")
_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(_chars, max_size=8),
    st.sampled_from(["F", "45", "5.0", "1,200", "Ｌｉ", " a\nb ", ""]),
)
_key = st.one_of(st.sampled_from(["Gender", "Age", "Result", "gender", "Ａge"]), st.text(_chars, max_size=4))
_json = st.recursive(
    _leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.lists(st.tuples(_key, inner), max_size=4)),
    max_leaves=16,
)


def _dumps(node) -> str:
    """Lists of (key, value) tuples are objects and keep a repeated key as written; lists of anything
    else are arrays."""
    if isinstance(node, list) and node and all(isinstance(x, tuple) for x in node):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dumps(v)}" for k, v in node) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(_dumps(x) for x in node) + "]"
    return json.dumps(node, ensure_ascii=False)


def _has_repeat(node) -> bool:
    if isinstance(node, list) and node and all(isinstance(x, tuple) for x in node):
        keys = [k for k, _ in node]
        return len(set(keys)) < len(keys) or any(_has_repeat(v) for _, v in node)
    if isinstance(node, list):
        return any(_has_repeat(x) for x in node)
    return False


def _keys_fold(node, case_fold: bool) -> bool:
    """Two different keys of one object that normalise to one (`Age`, `Ａge`): the reward counts
    both leaves, the metrics the one left in the normalised tree; not the case studied here."""
    if isinstance(node, list) and node and all(isinstance(x, tuple) for x in node):
        raw = {k for k, _ in node}
        return len({normalize_key(k, case_fold) for k in raw}) < len(raw) or any(
            _keys_fold(v, case_fold) for _, v in node
        )
    if isinstance(node, list):
        return any(_keys_fold(x, case_fold) for x in node)
    return False


_WRAPS = [
    "<think>t</think><answer>{}</answer>",
    "<answer>{}</answer>",
    "<think>t</think><answer>```json\n{}\n```</answer>",
    "Here it is: {} done",
    "{}",
]
_object = st.lists(st.tuples(_key, _json), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(_object, st.sampled_from(_WRAPS), st.sampled_from(["reject", "last"]), st.booleans(), st.booleans())
def test_reward_and_metrics_read_the_same_answer(obj, wrap, policy, thinking, case_fold):
    assume(not _keys_fold(obj, case_fold))
    body = _dumps(obj)
    completion = wrap.replace("{}", body)
    parsed = parse_completion(completion, require_thinking=thinking, duplicate_keys=policy)
    if policy == "reject" and _has_repeat(obj):
        assert parsed.answer is None
    else:  # as json.loads reads it: a repeated key holds its last value
        assert parsed.answer == json.loads(body, strict=False)

    truth = {"Gender": "F", "Age": "45", "Result": [{"Result": "5"}]}
    cfg = RewardConfig(duplicate_keys=policy, case_fold=case_fold)
    score = score_completion(completion, truth, cfg, thinking=thinking)
    doc = document_scores(completion, truth, cfg, matcher_for(cfg), thinking=thinking)
    assert (score.n, score.n_pred, score.n_truth) == (doc["n"], doc["n_pred"], doc["n_truth"])
    assert bool(score.format) == doc["format_ok"] and score.json_valid == doc["json_valid"]
