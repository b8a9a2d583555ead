import pytest

from medvie.rewards.flatten import canonicalize, flatten
from medvie.rewards.normalize import normalize_value
from medvie.rewards.parse import completion_text, parse_completion


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("5.0", "5"),
        ("1,200", "1200"),
        (5.0, "5"),
        (1200, "1,200"),
        ("０.５０", ".5"),
        ("Ｌｉ　Ｗｅｉ", "Li  Wei"),
        (" a\n\tb ", "a b"),
        ("-0.0", "0"),
    ],
)
def test_normalisation_equates_forms(a, b):
    assert normalize_value(a) == normalize_value(b)


def test_normalisation_keeps_real_differences():
    assert normalize_value("1,2") != normalize_value("12")
    assert normalize_value("Male") != normalize_value("male")
    assert normalize_value("Male", case_fold=True) == normalize_value("male", case_fold=True)
    assert normalize_value("3.5-9.5") == "3.5-9.5"


def test_flatten_drops_empties_and_indexes_lists():
    obj = {"A": "", "B": None, "C": [], "D": {}, "E": "  ", "F": [{"x": "1", "y": ""}, {}], "G": {"h": "v"}}
    assert flatten(obj) == [("F[0].x", "1"), ("G.h", "v")]
    assert canonicalize({"A": "", "B": [None, {}]}) is None


@pytest.mark.parametrize(
    ("text", "thinking", "ok"),
    [
        ('<think>a</think><answer>{"k": "v"}</answer>', True, True),
        ('  <think>a</think>\n<answer>\n```json\n{"k": "v"}\n```\n</answer>\n', True, True),
        ('<answer>{"k": "v"}</answer>', True, False),
        ('<answer>{"k": "v"}</answer>', False, True),
        ("<think>a</think><answer>{}</answer>", True, False),  # an empty answer never scores
        ("<think>a</think><answer>[1, 2]</answer>", True, False),
        ('<think>a</think><answer>{"k": "v"}</answer> trailing', True, False),
        ('<think>a<answer>x</answer></think><answer>{"k": "v"}</answer>', True, False),
        ('<think>a</think><answer>Here: {"k": "v"}</answer>', True, False),
        ('<think>a</think><answer>{"k": NaN}</answer>', True, False),
        ('<think>a</think><answer>{"k": "v", "k": "w"}</answer>', True, False),
    ],
)
def test_format(text, thinking, ok):
    assert parse_completion(text, require_thinking=thinking).format_ok is ok


def test_lenient_answer_even_when_format_fails():
    p = parse_completion('Sure! Here is the JSON: {"k": "v"} Hope it helps', require_thinking=True)
    assert p.answer == {"k": "v"} and not p.format_ok


def test_conversational_completion():
    msg = [{"role": "assistant", "content": '<think>a</think><answer>{"k": "v"}</answer>'}]
    assert completion_text(msg).startswith("<think>")
    assert parse_completion(msg).format_ok
    parts = [{"role": "assistant", "content": [{"type": "text", "text": '<answer>{"k": 1}</answer>'}]}]
    assert parse_completion(parts, require_thinking=False).answer == {"k": 1}
