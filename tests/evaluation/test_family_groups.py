"""Leave-family-out scoring: queries carry their record's family group, evaluation scores each group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medvie.evaluation.evaluate import HEADLINE, load_eval_queries, score
from medvie.io import write_jsonl
from medvie.queries.build import record_queries
from medvie.queries.config import QueriesConfig
from medvie.queries.schema import load_schema

SCHEMA = load_schema(Path(__file__).resolve().parents[2] / "schemas" / "medical.json")
LABEL = {"Name": "Li Wei", "Age": "45", "Gender": "Male"}


def _answer(obj: dict) -> str:
    return f"<think>read</think><answer>{json.dumps(obj)}</answer>"


def _row(i: int, group: str | None, strategy: str = "subset") -> dict:
    row = {
        "id": f"q{i}",
        "truth": {"Name": f"P{i}", "Age": str(20 + i)},
        "keys": ["Name", "Age"],
        "doc_type": "cbc",
        "strategy": strategy,
        "thinking": True,
    }
    if group is not None:
        row["family_group"] = group
    return row


def test_score_reports_each_family_group_with_counts_that_add_up():
    rows = [_row(i, "in_family", ("subset", "all")[i % 2]) for i in range(4)] + [
        _row(i, "held_out") for i in range(4, 7)
    ]
    # the trained-on forms are read right, the held-out ones are not
    preds = [_answer(r["truth"]) for r in rows[:4]] + [_answer({"Name": "?", "Age": "0"}) for _ in rows[4:]]
    result = score(preds, rows)
    groups = result["by_family_group"]
    assert set(groups) == {"in_family", "held_out"}
    assert groups["in_family"]["n"] == 4 and groups["held_out"]["n"] == 3
    assert sum(g["n"] for g in groups.values()) == result["n"] == len(rows)
    assert groups["in_family"]["f1"] == pytest.approx(1.0) and groups["held_out"]["f1"] == pytest.approx(0.0)
    assert min(groups["in_family"]["f1"], groups["held_out"]["f1"]) <= result["f1"] <= 1.0
    assert set(groups["held_out"]) <= set(HEADLINE) and "f1" in groups["held_out"]


def test_rows_without_a_family_are_left_out_of_the_groups():
    rows = [_row(0, "in_family"), _row(1, ""), _row(2, "held_out"), _row(3, None)]
    result = score([_answer(r["truth"]) for r in rows], rows)
    groups = result["by_family_group"]
    assert set(groups) == {"in_family", "held_out"}
    assert groups["in_family"]["n"] == groups["held_out"]["n"] == 1 and result["n"] == 4


@pytest.mark.parametrize("group", [None, ""])
def test_no_family_group_means_no_by_family_group(group):
    rows = [_row(i, group) for i in range(3)]
    result = score([_answer(r["truth"]) for r in rows], rows)
    assert "by_family_group" not in result
    assert result["n"] == 3 and result["f1"] == pytest.approx(1.0)


@pytest.mark.parametrize("group", ["held_out", "in_family", ""])
def test_record_queries_copy_the_family_group(group):
    record = {
        "id": "r1",
        "label": LABEL,
        "doc_type": "cbc",
        "meta": {"language": "en"},
        "family_group": group,
    }
    for strategy in ("subset", "all"):
        queries = record_queries(
            record, SCHEMA, QueriesConfig(), strategy=strategy, count=3, image="images/r1.png", split="test"
        )
        assert queries and {q["family_group"] for q in queries} == {group}


def test_record_without_family_group_gives_empty_group():
    record = {"id": "r2", "label": LABEL, "doc_type": "cbc", "meta": {"language": "en"}}
    [q] = record_queries(
        record, SCHEMA, QueriesConfig(), strategy="all", count=1, image="i.png", split="train"
    )
    assert q["family_group"] == ""


def test_family_group_survives_the_queries_file_into_scoring(tmp_path):
    rows = []
    for i, group in enumerate(["in_family", "held_out", "in_family"]):
        label = {"Name": f"P{i}", "Age": str(30 + i)}
        record = {"id": f"r{i}", "label": label, "doc_type": "cbc", "meta": {"language": "en"}}
        rows += record_queries(
            {**record, "family_group": group},
            SCHEMA,
            QueriesConfig(),
            strategy="subset",
            count=1,
            image=f"images/r{i}.png",
            split="test",
        )
    write_jsonl(tmp_path / "test.jsonl", rows)
    loaded = load_eval_queries(tmp_path / "test.jsonl")
    assert [r["family_group"] for r in loaded] == ["in_family", "held_out", "in_family"]
    result = score([_answer(r["truth"]) for r in loaded], loaded)
    assert {k: v["n"] for k, v in result["by_family_group"].items()} == {"in_family": 2, "held_out": 1}
