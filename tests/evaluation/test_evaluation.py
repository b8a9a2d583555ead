"""Evaluation: the OCR baseline on synthetic reports, and every output of the evaluate stage
with a fake model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from medvie.data import synth
from medvie.evaluation.config import EvaluateConfig
from medvie.evaluation.ocr_baseline import RuleReader, SchemaNames, answer
from medvie.io import write_jsonl
from medvie.paths import STAGES
from medvie.settings import parse_params

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "medical.json"


@pytest.fixture(scope="module")
def reports():
    return [
        synth.render_report(seed, "tiny", lang, dt)
        for seed, lang, dt in [
            (1, "en", "cbc"),
            (2, "zh", "biochemistry"),
            (3, "en", "imaging"),
            (4, "zh", "lipid"),
        ]
    ]


def test_ocr_baseline_reads_header_fields_and_table_rows(reports):
    reader = RuleReader()
    for rep in reports:
        read = reader.read(rep.meta["text_layer"])
        assert read["Name"] == rep.label["Name"]
        if "Indicators" in rep.label:
            got = {r["Item Name"]: r.get("Result") for r in read["Indicators"]}
            want = {r["Item Name"]: r["Result"] for r in rep.label["Indicators"]}
            assert got == want
    imaging = reader.read(reports[2].meta["text_layer"])
    assert imaging["Diagnosis"] == reports[2].label["Diagnosis"]


def test_ocr_baseline_answers_only_asked_keys_in_the_asked_language(reports):
    lines = reports[1].meta["text_layer"]
    out = answer(lines, ["Name", "Gender"], "...")
    assert list(out) == ["Name", "Gender"] and out["Name"] == reports[1].label["Name"]
    assert out["Gender"] == reports[1].label.get("Gender", "")

    names = SchemaNames(SCHEMA)
    zh = answer(lines, ["姓名", "指标"], "项目名称 结果", names)  # prompt names only these row fields
    assert zh["姓名"] == reports[1].label["Name"]
    assert zh["指标"] and all(set(row) <= {"项目名称", "结果"} for row in zh["指标"])


def _write_case(root: Path, reports) -> list[dict]:
    """A test split of 2 records x 2 strategies, with ingested records carrying the text layer."""
    (root / "data" / "ingested" / "images").mkdir(parents=True)
    records, queries = [], []
    for i, rep in enumerate(reports[:2]):
        rid = f"r{i}"
        rep.image.save(root / "data" / "ingested" / "images" / f"{rid}.png")
        records.append(
            {
                "id": rid,
                "image": f"images/{rid}.png",
                "label": rep.label,
                "doc_type": rep.doc_type,
                "meta": rep.meta,
                "split": "test",
                "sha256": f"{i:064x}",
            }
        )
        for strategy, keys in (("subset", ["Name"]), ("all", list(rep.label))):
            truth = {k: rep.label[k] for k in keys}
            queries.append(
                {
                    "id": f"{rid}-{strategy}",
                    "record_id": rid,
                    "image": f"../ingested/images/{rid}.png",
                    "prompt": [
                        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "x"}]}
                    ],
                    "truth": json.dumps(truth, ensure_ascii=False),
                    "keys": keys,
                    "thinking": True,
                    "doc_type": rep.doc_type,
                    "strategy": strategy,
                }
            )
    write_jsonl(root / "data" / "ingested" / "records.jsonl", records)
    write_jsonl(root / "data" / "queries" / "test.jsonl", queries)
    return queries


def test_evaluate_writes_metrics_plots_report_predictions_and_mlflow(tmp_path, reports, monkeypatch):
    from medvie.evaluation.pipeline import build_predictors, run_evaluate

    queries = _write_case(tmp_path, reports)
    monkeypatch.setenv("MEDVIE_ROOT", str(tmp_path))

    def perfect(rows):  # a fake model: reads the truth, answers in the trained format
        return [
            f"<think>ok</think><answer>{json.dumps(r['truth'], ensure_ascii=False)}</answer>" for r in rows
        ]

    def broken(rows):
        return ["no json here"] * len(rows)

    cfg = EvaluateConfig(models=["grpo"], thumb_side=64, worst_cases=2)
    where = STAGES["evaluate"].resolve(tmp_path, parse_params({"evaluate": cfg.model_dump()}), schema=SCHEMA)
    predictors = build_predictors(  # ocr_baseline only
        cfg.model_copy(update={"models": []}),
        models=where["models"],
        records=where["records"],
        text=where["text"],
        schema=where["schema"],
    )
    body = run_evaluate(cfg, None, predictors={"grpo": perfect, "base": broken, **predictors}, **where)

    saved = json.loads((tmp_path / "metrics" / "eval.json").read_text())
    assert saved == body and set(body) == {"grpo", "base", "ocr_baseline"}
    for model in body.values():
        assert {"f1", "precision", "recall", "ted_accuracy", "json_valid_rate", "n"} <= set(model)
        assert set(model["by_strategy"]) == {"subset", "all"}
        assert all(
            isinstance(v, (int, float)) for k, v in model.items() if k not in ("by_strategy", "per_doc_type")
        )
    assert body["grpo"]["f1"] == pytest.approx(1.0) and body["base"]["f1"] == pytest.approx(0.0)
    assert body["base"]["json_valid_rate"] == 0.0 and body["grpo"]["n"] == len(queries)
    assert 0.0 < body["ocr_baseline"]["f1"] <= 1.0
    assert body["ocr_baseline"]["by_strategy"]["subset"]["f1"] == pytest.approx(1.0)  # names read exactly

    with (tmp_path / "plots" / "eval" / "per_key_f1.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert table and set(table[0]) == {"key", "grpo", "base", "ocr_baseline"}
    with (tmp_path / "plots" / "eval" / "precision_recall.csv").open() as fh:
        assert {r["model"] for r in csv.DictReader(fh)} == {"grpo", "base", "ocr_baseline"}

    preds = [
        json.loads(line)
        for line in (tmp_path / "reports" / "predictions" / "base.jsonl").read_text().splitlines()
    ]
    assert [p["id"] for p in preds] == [q["id"] for q in queries] and preds[0]["prediction"] == "no json here"
    report = (tmp_path / "reports" / "eval.md").read_text()
    assert "## Worst cases: base" in report and "Keys asked: Name" in report
    thumbs = list((tmp_path / "reports" / "eval_assets").glob("*.png"))
    assert thumbs and f"eval_assets/{thumbs[0].name}" in report

    meta = json.loads((tmp_path / "reports" / "eval_meta.json").read_text())
    from medvie.evaluation.tracking import client_for

    run = client_for(tmp_path).get_run(meta["mlflow_run_id"])
    assert run.data.metrics["eval.grpo.f1"] == pytest.approx(1.0)
    assert "eval.ocr_baseline.by_strategy.subset.f1" in run.data.metrics
    assert run.data.tags["eval.test_set_hash"] == meta["test_set_hash"]
