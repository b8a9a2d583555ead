"""Leave-family-out at ingestion: held-out families go to test only, and validation still passes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from medvie.data.config import DataConfig, SplitConfig, ValidateConfig
from medvie.data.ingest import ingest
from medvie.data.records import load_records
from medvie.data.synth import write_dataset
from medvie.data.validation import validate_records


def _records(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, data_helpers) -> tuple[Path, list[dict]]:
    """30 synthetic reports of two in-family forms and one held-out form, plus 6 user records without a
    family, ingested with `meadow` held out."""
    root = tmp_path_factory.mktemp("holdout")
    src = write_dataset(root / "source", 30, 3, families=("riverside", "summit", "meadow"))
    data_helpers.write_source(src, 6)
    out = root / "ingested"
    ingest(src, out, DataConfig(holdout_families=["meadow"]))
    return out, _records(out)


def test_held_out_family_records_are_test_only(mixed):
    _, records = mixed
    synthetic = [r for r in records if r["meta"].get("family")]
    assert len(synthetic) == 30
    held = [r for r in synthetic if r["meta"]["family"] == "meadow"]
    kept = [r for r in synthetic if r["meta"]["family"] != "meadow"]
    assert held and kept
    assert {r["split"] for r in held} == {"test"}
    assert {r["family_group"] for r in held} == {"held_out"}
    assert {r["family_group"] for r in kept} == {"in_family"}
    assert "train" in {r["split"] for r in kept}  # in-family reports still train


def test_records_without_a_family_have_an_empty_group(mixed):
    out, records = mixed
    user = [r for r in records if not r["meta"].get("family")]
    assert sorted(r["id"] for r in user) == [f"r{i:03d}" for i in range(6)]
    assert {r["family_group"] for r in user} == {""}
    assert load_records(out)  # the records file stays loadable with the extra column


def test_user_source_alone_has_no_family_groups(tmp_path, data_helpers):
    data_helpers.write_source(tmp_path / "src", 12)
    ingest(tmp_path / "src", tmp_path / "out", DataConfig())
    records = _records(tmp_path / "out")
    assert len(records) == 12 and {r["family_group"] for r in records} == {""}
    assert len({r["split"] for r in records}) > 1  # splits assigned as usual, nothing forced to test


def test_no_holdout_means_every_synthetic_record_is_in_family(tmp_path):
    src = write_dataset(tmp_path / "src", 8, 5, families=("meadow", "harbor"))
    ingest(src, tmp_path / "out", DataConfig(holdout_families=[]))
    assert {r["family_group"] for r in _records(tmp_path / "out")} == {"in_family"}


@pytest.fixture(scope="module")
def mostly_held_out(tmp_path_factory) -> Path:
    """40 reports, three of four families held out (the defaults): most records are test."""
    root = tmp_path_factory.mktemp("mostly")
    src = write_dataset(root / "source", 40, 11, families=("riverside", "greenwood", "hillcrest", "meadow"))
    ingest(src, root / "ingested", DataConfig())
    return root / "ingested"


def test_split_shares_count_only_records_that_are_not_held_out(mostly_held_out, tmp_path):
    records = _records(mostly_held_out)
    groups = Counter(r["family_group"] for r in records)
    assert groups["held_out"] > groups["in_family"] > 0
    assert Counter(r["split"] for r in records)["test"] / len(records) > 0.5

    report = validate_records(mostly_held_out, ValidateConfig(), SplitConfig())
    assert report["success"], report["failed_critical"]
    assert not any(name.startswith("split_share") for name in report["failed_critical"])

    # the same splits without the family groups are far off the configured shares
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "images").symlink_to(mostly_held_out / "images")
    (plain / "records.jsonl").write_text(
        "".join(json.dumps({**r, "family_group": ""}) + "\n" for r in records), encoding="utf-8"
    )
    failed = validate_records(plain, ValidateConfig(), SplitConfig())["failed_critical"]
    assert "split_share_test" in failed
