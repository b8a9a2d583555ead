import json

from hypothesis import given, settings
from hypothesis import strategies as st

from medvie.rewards.config import RewardConfig
from medvie.rewards.flatten import canonicalize
from medvie.rewards.match import Matcher
from medvie.rewards.reward import score_completion

TRUTH = {
    "Name": "Li Wei",
    "Age": "45",
    "Indicators": [
        {"Item Name": "WBC", "Result": "11.2", "Unit": "10^9/L"},
        {"Item Name": "RBC", "Result": "4.5", "Unit": "10^12/L"},
        {"Item Name": "HGB", "Result": "130", "Unit": "g/L"},
    ],
}


def wrap(obj) -> str:
    return f"<think>t</think><answer>{json.dumps(obj, ensure_ascii=False)}</answer>"


def reward(pred, truth=TRUTH, **cfg) -> float:
    c = RewardConfig(**cfg)
    return score_completion(wrap(pred), truth, c).match_reward(c)


def test_alpha_one_with_one_correct_pair_is_full_reward():
    assert reward({"Age": "45"}, alpha=1.0) == 1.0


def test_alpha_zero_rewards_hallucination():
    junk = {**TRUTH, **{f"Extra {i}": "x" for i in range(50)}}
    assert reward(junk, alpha=0.0) == 1.0
    assert reward(junk, alpha=0.5) < 0.6


def test_empty_prediction_scores_zero_and_empties_are_ignored():
    assert reward({"Name": ""}) == 0.0
    padded = {**TRUTH, "Diagnosis": "", "Others": None, "Department": []}
    assert reward(padded) == 1.0
    assert reward(TRUTH, truth={**TRUTH, "Diagnosis": "", "Others": None}) == 1.0


def test_reordered_rows_score_the_same():
    shuffled = {**TRUTH, "Indicators": TRUTH["Indicators"][::-1]}
    assert reward(shuffled) == 1.0
    wrong = json.loads(json.dumps(shuffled))
    wrong["Indicators"][0]["Result"] = "999"
    wrong_ordered = json.loads(json.dumps(TRUTH))
    wrong_ordered["Indicators"][2]["Result"] = "999"
    assert reward(wrong) == reward(wrong_ordered) < 1.0
    assert reward(shuffled, unordered=False) < 1.0  # the paper-literal index rule punishes order


def test_row_assignment_is_optimal_not_greedy():
    m = Matcher()
    truth = canonicalize({"L": [{"a": "1", "b": "2"}, {"a": "1", "b": "3", "c": "4"}]})
    pred = canonicalize({"L": [{"a": "1", "b": "3"}, {"a": "1", "b": "2"}]})
    assert m.match(pred, truth) == 4


def test_fuzzy_matching_threshold():
    pred = {"Name": "Li Wel", "Age": "45"}
    assert reward(pred, alpha=1.0) == 0.5
    assert reward(pred, alpha=1.0, matching="fuzzy", fuzzy_threshold=0.8) == 1.0
    assert reward(pred, alpha=1.0, matching="fuzzy", fuzzy_threshold=0.9) == 0.5


def test_f_beta_and_gate():
    partial = {"Age": "45"}
    f1 = reward(partial, f_beta=1.0)
    assert abs(f1 - 2 * (1 / 11) / (1 + 1 / 11)) < 1e-9  # P = 1, R = 1/11
    c = RewardConfig(gate_on_format=True)
    assert score_completion(json.dumps(TRUTH), TRUTH, c).match_reward(c) == 0.0
    assert score_completion(json.dumps(TRUTH), TRUTH, RewardConfig()).match_reward(RewardConfig()) == 1.0


leaf = st.text(alphabet="ab1 .,", min_size=1, max_size=4)
row = st.dictionaries(st.sampled_from(["Item Name", "Result", "Unit"]), leaf, min_size=1)
report = st.fixed_dictionaries(
    {"Name": leaf}, optional={"Age": leaf, "Indicators": st.lists(row, max_size=4), "Diagnosis": leaf}
)


@settings(max_examples=60, deadline=None)
@given(report, st.floats(0, 1))
def test_prediction_equal_to_truth_scores_one(truth, alpha):
    c = RewardConfig(alpha=alpha)
    s = score_completion(wrap(truth), truth, c)
    if s.n_truth:
        assert s.match_reward(c) == 1.0 and s.format == 1.0


@settings(max_examples=60, deadline=None)
@given(report, report, st.sampled_from(["exact", "fuzzy"]))
def test_adding_a_wrong_pair_never_raises_precision(pred, truth, matching):
    c = RewardConfig(matching=matching)
    before = score_completion(wrap(pred), truth, c)
    after = score_completion(wrap({**pred, "Unasked Key Zz": "zzzz"}), truth, c)
    assert after.precision <= before.precision
    assert after.n == before.n


@settings(max_examples=60, deadline=None)
@given(report, report, st.sampled_from(["exact", "fuzzy"]))
def test_adding_a_correct_pair_never_lowers_recall(pred, truth, matching):
    c = RewardConfig(matching=matching)
    key = next(iter(truth))
    before = score_completion(wrap({k: v for k, v in pred.items() if k != key}), truth, c)
    after = score_completion(wrap({**{k: v for k, v in pred.items() if k != key}, key: truth[key]}), truth, c)
    assert after.recall >= before.recall
