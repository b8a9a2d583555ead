"""Diversity sampling at scale: pick 100 of 100,000 candidates whose image features are precomputed.

Prints seconds for feature assembly (label/meta/doc-type groups + standardisation), k-center greedy
(stratified and not), random selection and the diversity report. Run with OMP_NUM_THREADS=1 for one core.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from medvie.sampling.features import build_matrix
from medvie.sampling.select import k_center_greedy, pairwise_stats, random_selection

DOC_TYPES = ["cbc", "biochemistry", "urinalysis", "lipid", "thyroid", "imaging", "pathology"]
KEYS = ["Name", "Gender", "Age", "Department", "Diagnosis", "Examination Time", "Others"]


def fake_pool(n: int, seed: int, thumb: int = 16, bins: int = 32):
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        keys = [k for k in KEYS if rng.random() < 0.6] or ["Name"]
        label = {k: "x" * int(rng.integers(1, 20)) for k in keys}
        label["Indicators"] = [{"Item Name": "a", "Result": "1"}] * int(rng.integers(0, 12))
        records.append(
            {
                "id": str(i),
                "doc_type": DOC_TYPES[int(rng.integers(len(DOC_TYPES)))],
                "label": label,
                "meta": {
                    "language": "en" if rng.random() < 0.5 else "zh",
                    "layout": f"l{rng.integers(4)}",
                    "capture": {
                        "rotation": float(rng.normal()),
                        "crease": float(rng.random() < 0.3),
                        "background": f"b{rng.integers(5)}",
                    },
                },
            }
        )
    image = {
        "layout": rng.random((n, 2 * bins + 7), dtype=np.float32),
        "thumbnail": rng.random((n, thumb * thumb), dtype=np.float32),
        "phash": (rng.random((n, 64)) < 0.5).astype(np.float32),
    }
    return records, image


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pool", type=int, default=100_000)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    records, image = fake_pool(args.pool, args.seed)
    weights = {"layout": 1, "thumbnail": 1, "phash": 0.5, "label": 1, "meta": 1, "doc_type": 1}

    t0 = time.perf_counter()
    x = build_matrix(records, image, weights)
    t1 = time.perf_counter()
    strata = [r["doc_type"] for r in records]
    idx, _ = k_center_greedy(x, args.n, seed=args.seed, strata=strata)
    t2 = time.perf_counter()
    k_center_greedy(x, args.n, seed=args.seed)
    t3 = time.perf_counter()
    ridx, _ = random_selection(len(records), args.n, seed=args.seed)
    t4 = time.perf_counter()
    div, rnd = pairwise_stats(x, idx), pairwise_stats(x, ridx)
    t5 = time.perf_counter()
    print(f"pool={args.pool} n={args.n} dims={x.shape[1]}")
    print(f"feature assembly        {t1 - t0:7.2f} s")
    print(f"k-center, stratified    {t2 - t1:7.2f} s")
    print(f"k-center, unstratified  {t3 - t2:7.2f} s")
    print(f"random                  {t4 - t3:7.3f} s")
    print(f"report (both)           {t5 - t4:7.2f} s")
    print(f"total (assembly + stratified k-center + random + report) {t1 - t0 + t2 - t1 + t5 - t3:.2f} s")
    print(
        f"min pairwise distance   diverse {div['min_pairwise_distance']:.3f}  "
        f"random {rnd['min_pairwise_distance']:.3f}"
    )
    print(
        f"coverage radius (max)   diverse {div['coverage_radius_max']:.3f}  "
        f"random {rnd['coverage_radius_max']:.3f}"
    )


if __name__ == "__main__":
    main()
