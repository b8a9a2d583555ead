"""Selection on a feature matrix: k-center greedy (farthest point) with optional per-stratum quotas, or
random.

Both return `(indices, reasons)`; a reason says why an item was picked (its distance to the already picked
set at pick time, its stratum).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np


def balanced_quotas(strata: Sequence[str], n: int) -> dict[str, int]:
    """Split n as evenly as possible over strata, capped by their sizes (water-filling)."""
    sizes = Counter(strata)
    quota = dict.fromkeys(sizes, 0)
    # when n < number of strata, the largest strata get the single slots
    order = sorted(sizes, key=lambda s: (-sizes[s], s))
    left = n
    while left > 0:
        open_ = [s for s in order if quota[s] < sizes[s]]
        if not open_:
            break
        for s in open_:
            if left == 0:
                break
            quota[s] += 1
            left -= 1
    return quota


def k_center_greedy(
    x: np.ndarray, n: int, *, seed: int = 0, strata: Sequence[str] | None = None
) -> tuple[list[int], list[dict[str, Any]]]:
    """Farthest-point selection: each pick maximises its distance to the nearest already picked item.

    With `strata`, every stratum gets a balanced quota and a pick is the farthest item among strata whose
    quota is still open. The first pick is random (seeded). O(n * N * D), vectorised.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    total = x.shape[0]
    sq = np.einsum("ij,ij->i", x, x)
    mins = np.full(total, np.inf, dtype=np.float32)
    allowed = np.ones(total, dtype=bool)
    codes = quota_left = None
    if strata is not None:
        names = sorted(set(strata))
        lookup = {s: i for i, s in enumerate(names)}
        codes = np.fromiter((lookup[s] for s in strata), dtype=np.int64, count=total)
        quotas = balanced_quotas(strata, n)
        quota_left = np.array([quotas[s] for s in names])
        allowed = quota_left[codes] > 0
    rng = np.random.default_rng(seed)
    picked: list[int] = []
    reasons: list[dict[str, Any]] = []
    for rank in range(min(n, total)):
        if rank == 0:
            i = int(rng.choice(np.flatnonzero(allowed)))
            dist = None
        else:
            score = np.where(allowed, mins, -1.0)
            i = int(np.argmax(score))
            if score[i] < 0:
                break
            dist = float(np.sqrt(max(float(mins[i]), 0.0)))
        picked.append(i)
        reason: dict[str, Any] = {
            "rank": rank,
            "rule": "first pick (random, seeded)" if dist is None else "farthest from the picked set",
            "distance": dist,
        }
        if codes is not None and quota_left is not None and strata is not None:
            reason["stratum"] = strata[i]
            quota_left[codes[i]] -= 1
            if quota_left[codes[i]] == 0:
                allowed &= codes != codes[i]
        reasons.append(reason)
        allowed[i] = False
        d = sq + sq[i] - 2.0 * (x @ x[i])
        np.minimum(mins, d, out=mins)
    return picked, reasons


def random_selection(total: int, n: int, *, seed: int = 0) -> tuple[list[int], list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    idx = [int(i) for i in rng.choice(total, size=min(n, total), replace=False)]
    return idx, [{"rank": r, "rule": "uniform random (seeded)", "distance": None} for r in range(len(idx))]


def pairwise_stats(x: np.ndarray, idx: Sequence[int]) -> dict[str, float]:
    """Min/mean pairwise distance inside the selection and how well it covers the pool (k-center radius)."""
    sel = np.asarray(x[list(idx)], dtype=np.float64)
    out: dict[str, float] = {}
    if len(sel) >= 2:
        sq = (sel * sel).sum(1)
        d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * sel @ sel.T, 0))
        iu = np.triu_indices(len(sel), 1)
        out["min_pairwise_distance"] = float(d[iu].min())
        out["mean_pairwise_distance"] = float(d[iu].mean())
    if len(sel):
        pool = np.asarray(x, dtype=np.float32)
        best = np.full(len(pool), np.inf, dtype=np.float32)
        psq = np.einsum("ij,ij->i", pool, pool)
        for start in range(0, len(sel), 256):  # bounded memory on large pools
            block = sel[start : start + 256].astype(np.float32)
            d2 = psq[:, None] + (block * block).sum(1)[None, :] - 2 * pool @ block.T
            best = np.minimum(best, d2.min(1))
        radius = np.sqrt(np.maximum(best, 0))
        out["coverage_radius_max"] = float(radius.max())
        out["coverage_radius_mean"] = float(radius.mean())
    return out
