import json

import numpy as np
import pytest

from medvie.errors import ConfigError, DataError
from medvie.sampling import features as feats
from medvie.sampling.config import SamplingConfig
from medvie.sampling.pipeline import run_sample, sample_records
from medvie.sampling.select import balanced_quotas, k_center_greedy, random_selection


def _types(selected):
    return {r["doc_type"] for r in selected}


def test_diverse_covers_every_type_random_does_not(pool, tmp_path):
    cfg = SamplingConfig(n=8, seed=0)
    diverse, report = sample_records(pool, cfg, cache_path=tmp_path / "f.npz")
    rnd, _ = sample_records(
        pool, cfg.model_copy(update={"strategy": "random"}), cache_path=tmp_path / "f.npz"
    )
    assert len(_types(pool)) == 7
    assert _types(diverse) == _types(pool)
    assert len(_types(rnd)) < 7
    assert report["diverse"]["doc_type_coverage"] == 1.0
    assert report["random"]["doc_type_coverage"] < 1.0
    assert report["diverse"]["min_pairwise_distance"] > report["random"]["min_pairwise_distance"]


def test_unstratified_features_still_reach_every_type(pool):
    selected, _ = sample_records(pool, SamplingConfig(n=10, stratify=False))
    assert _types(selected) == _types(pool)


def test_selection_is_deterministic_and_reasons_recorded(pool, tmp_path):
    cfg = SamplingConfig(n=10, seed=3)
    a, ra = sample_records(pool, cfg, cache_path=tmp_path / "f.npz")
    b, rb = sample_records(list(pool), cfg, cache_path=tmp_path / "f.npz")
    assert [r["id"] for r in a] == [r["id"] for r in b] and ra == rb
    assert len({r["id"] for r in a}) == 10
    reasons = [r["selection"] for r in a]
    assert reasons[0]["distance"] is None and all(r["distance"] > 0 for r in reasons[1:])
    assert all(r["stratum"] == s["doc_type"] for r, s in zip(reasons, a, strict=True))
    assert "image_path" not in a[0]


def test_feature_cache_is_reused(pool, tmp_path, monkeypatch):
    cache = tmp_path / "f.npz"
    first, _ = sample_records(pool, SamplingConfig(n=5), cache_path=cache)
    assert cache.exists()

    def boom(*a, **k):
        raise AssertionError("image features recomputed despite the cache")

    monkeypatch.setattr(feats, "image_features", boom)
    again, _ = sample_records(pool, SamplingConfig(n=5), cache_path=cache)
    assert [r["id"] for r in first] == [r["id"] for r in again]


def test_n_larger_than_pool_is_an_error(pool):
    with pytest.raises(ConfigError, match=r"sampling.n = 500 .* only 120"):
        sample_records(pool, SamplingConfig(n=500))


def test_empty_label_is_an_error_naming_the_record(pool):
    pool[5]["label"] = {}
    with pytest.raises(DataError, match="r5"):
        sample_records(pool, SamplingConfig(n=5))


def test_pool_is_the_configured_split(pool):
    for rec in pool[:100]:
        rec["split"] = "test"
    selected, report = sample_records(pool, SamplingConfig(n=20))
    assert report["pool_size"] == 20 and {r["split"] for r in selected} == {"train"}


def test_k_center_picks_extremes_and_quotas_balance():
    x = np.arange(11, dtype=np.float32)[:, None]
    idx, reasons = k_center_greedy(x, 4, seed=0)
    assert idx[1] == (0 if idx[0] >= 5 else 10)  # the farthest point from the (random) first pick
    dists = [r["distance"] for r in reasons[1:]]
    assert dists == sorted(dists, reverse=True)
    assert balanced_quotas(["a"] * 10 + ["b"] + ["c"] * 2, 6) == {"a": 3, "b": 1, "c": 2}
    assert sum(balanced_quotas(["a"] * 3 + ["b"] * 3, 2).values()) == 2
    assert random_selection(50, 5, seed=1) == random_selection(50, 5, seed=1)


def test_groups_are_standardised_so_none_dominates():
    rng = np.random.default_rng(0)
    big = rng.normal(size=(200, 300)) * 100  # many wide columns
    small = rng.integers(0, 2, size=(200, 3)).astype(np.float32)
    gb = feats.normalise_group([(big, False)], 1.0)
    gs = feats.normalise_group([(small, False)], 1.0)
    assert gb.var(axis=0).sum() == pytest.approx(1.0, rel=1e-3)
    assert gs.var(axis=0).sum() == pytest.approx(1.0, rel=1e-3)
    assert feats.normalise_group([(big, False)], 0.0) is None


def test_run_sample_writes_selection_and_metrics(ingested, tmp_path):
    report = run_sample(
        SamplingConfig(n=7),
        records=ingested,
        out=tmp_path / "sel.jsonl",
        metrics=tmp_path / "m" / "diversity.json",
        cache=tmp_path / "f.npz",
    )
    rows = [json.loads(line) for line in (tmp_path / "sel.jsonl").read_text().splitlines()]
    assert len(rows) == 7 and all("selection" in r for r in rows)
    metrics = json.loads((tmp_path / "m" / "diversity.json").read_text())
    assert metrics == report
    for side in ("diverse", "random"):
        assert {
            "doc_type_coverage",
            "condition_coverage",
            "min_pairwise_distance",
            "mean_pairwise_distance",
        } <= set(metrics[side])
