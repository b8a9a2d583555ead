import random
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from rewards_donut_ref import DonutEvaluator, python_edit_distance  # noqa: E402
from rewards_fakes import make_report, perturb  # noqa: E402

from medvie.rewards.match import Matcher  # noqa: E402
from medvie.rewards.metrics import align_lists  # noqa: E402
from medvie.rewards.ted import ted_accuracy  # noqa: E402

REF = DonutEvaluator()


def test_reference_edit_distance_equals_rapidfuzz():
    from rapidfuzz.distance import Levenshtein

    for a, b in [("kitten", "sitting"), ("", "abc"), ("血红蛋白", "血红蛋"), ("3.5-9.5", "3.5~9.5")]:
        assert python_edit_distance(a, b) == Levenshtein.distance(a, b)


def test_equals_donut_on_realistic_reports():
    rng = random.Random(7)
    for _ in range(6):
        truth = make_report(rng, rng.randint(2, 5))
        pred = perturb(truth, rng)
        assert ted_accuracy(pred, truth) == pytest.approx(REF.cal_acc(pred, truth), abs=1e-12)


QUIRKS = [
    (
        {"a": 0, "b": False, "c": True, "d": [1, 2.5, "x", None, True, [1]], "e": "  "},
        {"a": "0", "c": "True"},
    ),
    ({"k<leaf>": "v", "v": "<leaf>x<leaf>"}, {"k": "v", "v": "x"}),
    ({"a": {"b": {"c": "1"}}, "L": [{"x": "1"}, "s"]}, {"a": [{"b": "1"}], "L": [{"x": "1"}]}),
    ({"n": 5.0, "m": [{}]}, {"n": "5", "m": [{"q": ""}], "z": "long value here"}),
]


@pytest.mark.parametrize(("pred", "truth"), QUIRKS)
def test_equals_donut_on_quirks(pred, truth):
    assert ted_accuracy(pred, truth) == pytest.approx(REF.cal_acc(pred, truth), abs=1e-12)
    assert ted_accuracy(truth, pred) == pytest.approx(REF.cal_acc(truth, pred), abs=1e-12)


json_leaf = st.one_of(st.text("ab <", max_size=3), st.integers(0, 3), st.none())
small = st.recursive(
    json_leaf,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3), st.dictionaries(st.sampled_from("abc"), kids, max_size=3)
    ),
    max_leaves=8,
)
docs = st.dictionaries(st.sampled_from(["a", "b", "L", "xy"]), small, min_size=1, max_size=3)


@settings(max_examples=80, deadline=None)
@given(docs, docs)
def test_equals_donut_on_random_trees(pred, truth):
    if not REF.normalize_dict(truth):
        return  # Donut divides by zero there
    assert ted_accuracy(pred, truth) == pytest.approx(REF.cal_acc(pred, truth), abs=1e-9)


def test_empty_truth_and_non_dict_prediction():
    assert ted_accuracy({}, {}) == 1.0
    assert ted_accuracy({"a": "x"}, {"b": ""}) == 0.0
    assert ted_accuracy("not a dict", {"a": "x"}) == 0.0


def test_order_insensitive_variant_ignores_row_order_only():
    rows = [{"Item Name": f"I{i}", "Result": str(i * 7), "Unit": "g/L"} for i in range(6)]
    truth = {"Name": "Li", "Indicators": rows}
    shuffled = {"Name": "Li", "Indicators": rows[3:] + rows[:3]}
    shuffled["Indicators"][0] = dict(shuffled["Indicators"][0], Result="0")
    aligned = align_lists(shuffled, truth, Matcher())
    assert ted_accuracy(shuffled, truth) < ted_accuracy(aligned, truth) < 1.0
    assert sorted(r["Item Name"] for r in aligned["Indicators"]) == sorted(r["Item Name"] for r in rows)
    assert ted_accuracy(align_lists({"Name": "Li", "Indicators": rows[::-1]}, truth, Matcher()), truth) == 1.0
