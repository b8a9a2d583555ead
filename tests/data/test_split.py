"""Splits: deterministic by id, shares as configured, duplicates never across splits."""

from __future__ import annotations

import io
import json
import random
from itertools import combinations

import numpy as np

from medvie.data.config import DataConfig, SplitConfig
from medvie.data.ingest import ingest
from medvie.data.records import load_records
from medvie.data.split import duplicate_groups, near_duplicate_pairs, split_for_id


def test_split_is_a_pure_function_of_id_and_salt():
    cfg = SplitConfig()
    ids = [f"id-{i}" for i in range(3000)]
    first = [split_for_id(i, cfg) for i in ids]
    assert first == [split_for_id(i, cfg) for i in ids]
    shares = {s: first.count(s) / len(ids) for s in ("train", "val", "test")}
    assert abs(shares["train"] - 0.7) < 0.03 and abs(shares["val"] - 0.1) < 0.03
    other = [split_for_id(i, SplitConfig(salt="other")) for i in ids]
    assert other != first


def test_near_duplicate_pairs_match_brute_force():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2**63, 40, dtype=np.uint64)
    flips = np.uint64(1) << rng.integers(0, 64, 40).astype(np.uint64)
    hashes = np.concatenate([base, base ^ flips, rng.integers(0, 2**63, 600, dtype=np.uint64)])
    got = {tuple(p) for p in near_duplicate_pairs(hashes, 3).tolist()}
    want = {
        (i, j)
        for i, j in combinations(range(len(hashes)), 2)
        if bin(int(hashes[i]) ^ int(hashes[j])).count("1") <= 3
    }
    assert got == want and len(want) >= 40


def test_duplicate_groups_chain_exact_and_near():
    sha = ["a", "b", "c", "a", "d"]
    ph = ["0000000000000000", "0000000000000003", "ffffffffffffffff", "00000000000000ff", "0f0f0f0f0f0f0f0f"]
    g = duplicate_groups(sha, ph, 2)
    assert g[0] == g[1] == g[3]  # 0~1 by phash, 0~3 by content
    assert len({g[0], g[2], g[4]}) == 3


def test_ingest_is_deterministic_and_keeps_near_duplicates_together(tmp_path, source, data_helpers):
    h = data_helpers
    rows = h.write_source(source, 30)
    lines = []
    for i in range(8):  # the same picture saved again at another JPEG quality, under new ids
        buf = io.BytesIO()
        h.blocky_image(i).save(buf, "JPEG", quality=40)
        (source / "images" / f"copy{i}.jpg").write_bytes(buf.getvalue())
        lines.append(json.dumps({"id": f"zz-copy-{i}", "image": f"images/copy{i}.jpg", "label": {"A": "b"}}))
        lines.append(json.dumps({"id": f"aa-same-{i}", "image": f"images/r{i:03d}.jpg", "label": {"A": "b"}}))
    with (source / "labels.jsonl").open("a") as fh:
        fh.write("\n".join(lines) + "\n")
    cfg = DataConfig()
    ingest(source, tmp_path / "a", cfg)
    # shuffled input order: same splits
    all_lines = (source / "labels.jsonl").read_text().splitlines()
    random.Random(1).shuffle(all_lines)
    (source / "labels.jsonl").write_text("\n".join(all_lines) + "\n")
    summary = ingest(source, tmp_path / "b", DataConfig(workers=2))

    a = {r["id"]: r for r in load_records(tmp_path / "a")}
    b = {r["id"]: r for r in load_records(tmp_path / "b")}
    assert {k: r["split"] for k, r in a.items()} == {k: r["split"] for k, r in b.items()}
    assert {k: r["sha256"] for k, r in a.items()} == {k: r["sha256"] for k, r in b.items()}
    for i in range(8):
        trio = {a[f"r{i:03d}"]["split"], a[f"zz-copy-{i}"]["split"], a[f"aa-same-{i}"]["split"]}
        assert len(trio) == 1
        assert a[f"r{i:03d}"]["split"] == split_for_id(f"aa-same-{i}", cfg.split)  # the smallest id decides
    assert summary["duplicate_groups"] == 8 and summary["largest_duplicate_group"] == 3
    assert len(rows) + 16 == summary["n_kept"]


def test_fine_hash_confirms_coarse_matches():
    sha = ["a", "b"]
    coarse = ["00000000000000ff", "00000000000000fe"]  # 1 bit apart
    far = ["0" * 64, "f" * 32 + "0" * 32]  # 128 bits apart
    assert len(set(duplicate_groups(sha, coarse, 4))) == 1
    assert len(set(duplicate_groups(sha, coarse, 4, far, 16))) == 2
    near = ["0" * 64, "0" * 63 + "7"]  # 3 bits apart
    assert len(set(duplicate_groups(sha, coarse, 4, near, 16))) == 1
