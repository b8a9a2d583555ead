import json
import random
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from rewards_donut_ref import DonutEvaluator  # noqa: E402
from rewards_fakes import completion, make_report  # noqa: E402

from medvie.cli import app  # noqa: E402
from medvie.rewards.metrics import evaluate_predictions  # noqa: E402


def _shuffled_with_changes(rng):
    truth = make_report(rng, 8)
    pred = json.loads(json.dumps(truth))
    rng.shuffle(pred["Indicators"])
    pred["Indicators"][0]["Result"] = "0.01"
    return pred, truth


def test_micro_f1_matches_donut_when_rows_are_in_order():
    rng = random.Random(3)
    truths = [make_report(rng, 4) for _ in range(5)]
    preds = [json.loads(json.dumps(t)) for t in truths]
    preds[0]["Name"] = "Someone Else"
    preds[1]["Indicators"][1]["Result"] = "999"
    m = evaluate_predictions(preds, truths)
    assert m["f1"] == pytest.approx(DonutEvaluator().cal_f1(preds, truths))


def test_reordered_rows_hurt_ted_but_not_f1_or_unordered_ted():
    rng = random.Random(5)
    pairs = [_shuffled_with_changes(rng) for _ in range(3)]
    m = evaluate_predictions([completion(p) for p, _ in pairs], [t for _, t in pairs], doc_types=["cbc"] * 3)
    assert m["f1"] > 0.9 and m["json_valid_rate"] == 1.0 and m["format_rate"] == 1.0
    assert m["ted_accuracy"] < m["ted_accuracy_unordered"]
    assert m["ted_accuracy_unordered"] > 0.9
    assert set(m["per_doc_type"]) == {"cbc"} and "Indicators" in m["per_key"]


def test_hallucination_and_omission_use_asked_keys():
    truth = {"Age": "45", "Name": "Li", "Diagnosis": ""}
    pred = {"Age": "45", "Diagnosis": "x", "Pet": "cat"}
    m = evaluate_predictions([pred], [truth], asked_keys=[["Age", "Name", "Diagnosis"]])
    assert m["hallucination_rate"] == pytest.approx(1 / 3)  # Pet
    assert m["omission_rate"] == pytest.approx(1 / 2)  # Name (Diagnosis has no true value)


def _write(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_score_cli(tmp_path):
    truth = {"Age": "45", "Name": "Li"}
    p = _write(
        tmp_path / "p.jsonl",
        [
            {"id": "a", "prediction": '<think>x</think><answer>{"Age": "45", "Name": "LI"}</answer>'},
            {"id": "z", "prediction": {"Age": "1"}},
        ],
    )
    t = _write(tmp_path / "t.jsonl", [{"id": "a", "label": truth}, {"id": "b", "label": truth}])
    runner = CliRunner()
    res = runner.invoke(app, ["score", "--predictions", str(p), "--truth", str(t)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert {"precision", "recall", "f1", "ted_accuracy"} <= set(out)
    assert out["missing_predictions"] == ["b"] and out["missing_truth"] == ["z"]
    assert out["pairs"] == {"matched": 1, "predicted": 3, "truth": 4}
    folded = json.loads(
        runner.invoke(app, ["score", "--predictions", str(p), "--truth", str(t), "--case-fold"]).stdout
    )
    assert folded["pairs"]["matched"] == 2
    bad = runner.invoke(app, ["score", "--predictions", str(p), "--truth", str(t), "--matching", "nope"])
    assert bad.exit_code != 0
