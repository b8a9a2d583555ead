"""Deterministic splits by id hash, with duplicate images kept together."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from medvie.data.config import SplitConfig

# Rows of the pairwise-distance block: 256 x 10k uint64 stays around 20 MB.
_BLOCK = 256


def split_for_id(record_id: str, cfg: SplitConfig) -> str:
    """train/val/test from a salted hash of the id: stable across runs, machines and input order."""
    digest = hashlib.sha256(f"{cfg.salt}\0{record_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < cfg.train:
        return "train"
    if u < cfg.train + cfg.val:
        return "val"
    return "test"


def near_duplicate_pairs(hashes: np.ndarray, max_distance: int) -> np.ndarray:
    """Index pairs (i < j) of 64-bit hashes within `max_distance` bits, as an (m, 2) array."""
    hashes = np.asarray(hashes, dtype=np.uint64)
    n = len(hashes)
    found = []
    for start in range(0, n, _BLOCK):
        block = hashes[start : start + _BLOCK]
        dist = np.bitwise_count(block[:, None] ^ hashes[None, start:])
        rows, cols = np.nonzero(dist <= max_distance)
        keep = cols > rows  # columns are offset by `start`, so this is j > i
        found.append(np.stack([rows[keep] + start, cols[keep] + start], axis=1))
    return np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)


def _words(hex_hashes: Sequence[str]) -> np.ndarray:
    """Hex hashes (a multiple of 16 digits) as rows of uint64 words."""
    width = len(hex_hashes[0]) // 16 if len(hex_hashes) else 1
    return np.array(
        [[int(h[16 * k : 16 * (k + 1)], 16) for k in range(width)] for h in hex_hashes], dtype=np.uint64
    ).reshape(len(hex_hashes), width)


def duplicate_groups(
    sha256s: Sequence[str],
    phashes: Sequence[str],
    max_distance: int,
    fine_phashes: Sequence[str] | None = None,
    fine_distance: int = 16,
) -> np.ndarray:
    """Group label per image: identical content or perceptual hashes within `max_distance` are one group.

    On document pages the 64-bit phash is coarse: different reports of one template often differ by
    only 2-4 bits, as much as a re-encoded or resized copy of one page. When `fine_phashes` (256-bit)
    are given, a 64-bit candidate pair is kept only if its fine distance is within `fine_distance`:
    on text pages, re-encoded or resized copies measured <= 12 bits and
    distinct pages of one template >= 20.
    """
    n = len(sha256s)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    edges: list[np.ndarray] = []
    # Exact duplicates by content hash: join each image to the first with that hash.
    _, first_sha, inv_sha = np.unique(np.asarray(sha256s), return_index=True, return_inverse=True)
    edges.append(np.stack([np.arange(n), first_sha[inv_sha]], axis=1))
    # Equal hashes collapse first, so a flood of identical pages does not make the pair search quadratic.
    keys = np.asarray(fine_phashes if fine_phashes is not None else phashes)
    _, rep, inv = np.unique(keys, return_index=True, return_inverse=True)
    edges.append(np.stack([np.arange(n), rep[inv]], axis=1))
    coarse = _words([phashes[i] for i in rep])[:, 0]
    pairs = near_duplicate_pairs(coarse, max_distance)
    if fine_phashes is not None and len(pairs):
        fine = _words([fine_phashes[i] for i in rep])
        dist = np.bitwise_count(fine[pairs[:, 0]] ^ fine[pairs[:, 1]]).sum(axis=1)
        pairs = pairs[dist <= fine_distance]
    edges.append(rep[pairs])
    e = np.concatenate(edges).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(e), dtype=np.int8), (e[:, 0], e[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def assign_splits(
    ids: Sequence[str],
    sha256s: Sequence[str],
    phashes: Sequence[str],
    cfg: SplitConfig,
    max_distance: int,
    fine_phashes: Sequence[str] | None = None,
    fine_distance: int = 16,
) -> tuple[list[str], np.ndarray]:
    """(split per record, duplicate-group label per record). A group takes the split of its smallest id."""
    groups = duplicate_groups(sha256s, phashes, max_distance, fine_phashes, fine_distance)
    smallest: dict[int, str] = {}
    for rid, g in zip(ids, groups.tolist(), strict=True):
        if g not in smallest or rid < smallest[g]:
            smallest[g] = rid
    group_split = {g: split_for_id(rid, cfg) for g, rid in smallest.items()}
    return [group_split[g] for g in groups.tolist()], groups
