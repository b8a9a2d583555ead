"""The GX suite: passes clean data, catches planted problems, reports critical vs warning."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from medvie.data.config import DataConfig, SplitConfig, ValidateConfig
from medvie.data.ingest import ingest
from medvie.data.pipeline import run_validate
from medvie.data.validation import label_structure, validate_records
from medvie.errors import DataError


@pytest.fixture(scope="module")
def clean(tmp_path_factory, data_helpers) -> Path:
    root = tmp_path_factory.mktemp("clean")
    data_helpers.write_source(root / "source", 40)
    ingest(root / "source", root / "ingested", DataConfig())
    return root / "ingested"


def _planted(clean: Path, tmp_path: Path, mutate) -> Path:
    out = tmp_path / "ingested"
    shutil.copytree(clean, out)
    rows = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    rows = mutate(rows)
    (out / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return out


def _failed(report: dict) -> set[str]:
    return set(report["failed_critical"]) | set(report["failed_warning"])


def test_clean_data_passes(clean):
    report = validate_records(clean, ValidateConfig(), SplitConfig())
    assert report["success"] and not report["failed_critical"], report["failed_critical"]
    assert report["n_records"] == 40 and sum(report["splits"].values()) == 40
    assert {e["severity"] for e in report["expectations"]} == {"critical", "warning"}


def test_duplicate_id_is_caught(clean, tmp_path):
    out = _planted(clean, tmp_path, lambda rows: rows + [dict(rows[3])])
    report = validate_records(out, ValidateConfig(), SplitConfig())
    assert not report["success"]
    assert "id_unique" in report["failed_critical"]
    [entry] = [e for e in report["expectations"] if e["name"] == "id_unique"]
    assert entry["examples"][0] == "r003"


def test_out_of_bounds_size_is_caught(clean):
    report = validate_records(clean, ValidateConfig(min_side=100), SplitConfig())
    assert "width_in_bounds" in report["failed_critical"]  # the images are 96 x 128
    assert "height_in_bounds" not in _failed(report)


def test_split_imbalance_is_caught(clean, tmp_path):
    out = _planted(clean, tmp_path, lambda rows: [{**r, "split": "train"} for r in rows])
    report = validate_records(out, ValidateConfig(), SplitConfig())
    assert {"split_share_train", "split_share_test"} <= set(report["failed_critical"])


def test_cross_split_duplicate_is_caught(clean, tmp_path):
    def plant(rows):
        a, b = rows[0], next(r for r in rows if r["split"] != rows[0]["split"])
        b.update(sha256=a["sha256"], phash=a["phash"], phash256=a["phash256"])
        return rows

    report = validate_records(_planted(clean, tmp_path, plant), ValidateConfig(), SplitConfig())
    assert "no_cross_split_duplicates" in report["failed_critical"]
    assert "no_exact_duplicate_images" in report["failed_warning"]


def test_label_structure_and_schema_keys(clean, tmp_path):
    def plant(rows):
        rows[0]["label"] = {"Name": "x", "Age": 45}
        rows[1]["label"] = {"Indicators": {"Item Name": "WBC"}}
        rows[2]["label"] = {"Nmae": "typo"}
        return rows

    schema = tmp_path / "schema.json"
    schema.write_text(
        json.dumps(
            {"keys": [{"key": k} for k in ("Name", "Age", "Indicators", "Item Name", "Result", "Unit")]}
        )
    )
    report = validate_records(
        _planted(clean, tmp_path, plant), ValidateConfig(), SplitConfig(), schema_path=schema
    )
    assert {"label_leaves_are_strings", "indicators_are_objects"} <= set(report["failed_critical"])
    assert "label_keys_in_schema" in report["failed_warning"] and report["schema_checked"]

    no_schema = validate_records(clean, ValidateConfig(), SplitConfig(), schema_path=tmp_path / "absent.json")
    assert not no_schema["schema_checked"]
    assert all(e["name"] != "label_keys_in_schema" for e in no_schema["expectations"])


def test_label_structure_unit():
    good = {"Name": "a", "Indicators": [{"Item Name": "WBC", "Result": "4"}]}
    assert label_structure(good, {"Name", "Indicators", "Item Name", "Result"}) == {
        "label_keys": 2,
        "label_leaves_strings": True,
        "indicators_ok": True,
        "unknown_keys": 0,
    }
    assert label_structure({"Indicators": ["x"]}, None)["indicators_ok"] is False
    assert label_structure({"Indicators": [{"Result": 4}]}, None)["label_leaves_strings"] is False


def _validate(records: Path, reports: Path) -> dict:
    return run_validate(
        ValidateConfig(),
        DataConfig(),
        records=records,
        schema=None,
        report_json=reports / "validation.json",
        report_md=reports / "validation.md",
    )


def test_run_validate_writes_reports_and_names_failures(clean, tmp_path, caplog):
    out = _planted(clean, tmp_path, lambda rows: rows + [dict(rows[0])])
    with pytest.raises(DataError) as err:
        _validate(out, tmp_path / "reports")
    message = str(err.value)
    assert "id_unique" in message and "\n" not in message and "validation.md" in message
    report = json.loads((tmp_path / "reports" / "validation.json").read_text())
    assert report["success"] is False and report["n_failed_critical"] >= 1
    assert isinstance(report["n_records"], int)
    assert "FAIL | id_unique" in (tmp_path / "reports" / "validation.md").read_text()

    with caplog.at_level("INFO", logger="medvie"):
        ok = _validate(clean, tmp_path / "reports")
    assert ok["success"] and json.loads((tmp_path / "reports" / "validation.json").read_text())["success"]
    assert any(m.startswith("validation passed:") for m in caplog.messages)
