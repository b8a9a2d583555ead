"""Counting matched pairs between a predicted and a true canonical tree.

n is the number of true leaves matched by a predicted leaf at the same key path. List items
are matched without regard to order: each predicted item is paired with at most one true item
so that the total n is largest (Hungarian assignment on item similarity). One Indicators row is
thus one unit, and a reordered table scores the same as an ordered one.

Fast paths (exact matching): identical items are paired first by hashing, which is provably
optimal for exact matching; scipy is called only for what is left, and never for 1x1.

>>> m = Matcher()
>>> truth = {"Indicators": [{"Item Name": "WBC", "Result": "11.2"}, {"Item Name": "RBC", "Result": "4.5"}]}
>>> pred = {"Indicators": [{"Item Name": "RBC", "Result": "4.5"}, {"Item Name": "WBC", "Result": "1.2"}]}
>>> m.match(pred, truth)
3
"""

from __future__ import annotations

from typing import Any

from rapidfuzz.distance import Levenshtein

from medvie.rewards.flatten import Node, count_leaves


def _freeze(node: Node) -> Any:
    """A hashable form such that equal frozen forms mean equal trees."""
    if type(node) is str:
        return node
    if type(node) is dict:
        try:
            return frozenset(node.items())  # flat rows: one C call
        except TypeError:
            return frozenset((k, _freeze(v)) for k, v in node.items())
    return tuple(_freeze(v) for v in node)


class Matcher:
    """Leaf rule and list rule. `matching`: exact | fuzzy (normalised edit similarity)."""

    __slots__ = ("fuzzy", "threshold", "unordered")

    def __init__(self, matching: str = "exact", threshold: float = 0.9, unordered: bool = True):
        if matching not in ("exact", "fuzzy"):
            raise ValueError(f"matching must be exact or fuzzy, got {matching!r}")
        self.fuzzy = matching == "fuzzy"
        self.threshold = threshold
        self.unordered = unordered

    def leaf_equal(self, a: str, b: str) -> bool:
        if a == b:
            return True
        return (
            self.fuzzy
            and Levenshtein.normalized_similarity(a, b, score_cutoff=self.threshold) >= self.threshold
        )

    def match(self, p: Node | None, g: Node | None) -> int:
        """Matched leaves between two canonical nodes."""
        if p is None or g is None:
            return 0
        tp = type(p)
        if tp is not type(g):
            return 0
        if tp is str:
            return 1 if self.leaf_equal(p, g) else 0
        if tp is dict:
            n = 0
            for k, v in p.items():
                w = g.get(k)
                if w is not None:
                    if type(v) is str:
                        n += (v == w) or (type(w) is str and self.leaf_equal(v, w))
                    else:
                        n += self.match(v, w)
            return n
        if not self.unordered:
            return sum(s for _, _, s in self.assign(p, g))
        if self.fuzzy:
            return self._fuzzy_list_total(p, g)
        return self._exact_list_total(p, g)

    def _fuzzy_list_total(self, ps: list, gs: list) -> int:
        """sum of the scores of `assign(ps, gs)` for fuzzy unordered matching, without the pairs."""
        k = min(len(ps), len(gs))
        if k == 0:
            return 0
        if (ps if k == len(ps) else ps[:k]) == (
            gs if k == len(gs) else gs[:k]
        ):  # every aligned pair identical
            return sum(count_leaves(g) for g in (gs if k == len(gs) else gs[:k]))
        if len(ps) == 1 and len(gs) == 1:
            return self.match(ps[0], gs[0])
        match = self.match
        return _best_total([[match(p, g) for g in gs] for p in ps])

    def _exact_list_total(self, ps: list, gs: list) -> int:
        """sum of the scores of `assign(ps, gs)` for exact unordered matching, without the pairs.

        The same steps (aligned check, identical items paired by hashing, best assignment of the
        rest), with flat rows (dicts of leaves) compared as item sets in C, and the assignment
        solved without scipy when each remaining row's best column is distinct (the total of row
        maxima bounds every assignment, so it is the optimum; optimal totals are unique).
        """
        k = min(len(ps), len(gs))
        if k == 0:
            return 0
        if (ps if k == len(ps) else ps[:k]) == (
            gs if k == len(gs) else gs[:k]
        ):  # every aligned pair identical
            return sum(count_leaves(g) for g in (gs if k == len(gs) else gs[:k]))
        frozen_g: dict[Any, list[int]] = {}
        flat_g: list[Any] = []  # frozenset of items for a flat row, else None
        for j in range(len(gs) - 1, -1, -1):
            g = gs[j]
            f = None
            if type(g) is dict:
                try:
                    f = frozenset(g.items())
                except TypeError:
                    key = _freeze(g)
                else:
                    key = f
            else:
                key = _freeze(g)
            flat_g.append(f)
            frozen_g.setdefault(key, []).append(j)
        flat_g.reverse()
        total = 0
        rem_p: list[int] = []
        flat_p: list[Any] = []
        used = set()
        for i, p in enumerate(ps):
            f = None
            if type(p) is dict:
                try:
                    f = frozenset(p.items())
                except TypeError:
                    key = _freeze(p)
                else:
                    key = f
            else:
                key = _freeze(p)
            js = frozen_g.get(key)
            if js:
                j = js.pop()
                used.add(j)
                total += len(gs[j]) if f is not None else count_leaves(gs[j])
            else:
                rem_p.append(i)
                flat_p.append(f)
        if not rem_p or len(used) == len(gs):
            return total
        rem_g = [j for j in range(len(gs)) if j not in used]
        if len(rem_p) == 1 and len(rem_g) == 1:
            i, j = rem_p[0], rem_g[0]
            fp, fg = flat_p[0], flat_g[j]
            return total + (len(fp & fg) if fp is not None and fg is not None else self.match(ps[i], gs[j]))
        scores = []
        for a, i in enumerate(rem_p):
            fp = flat_p[a]
            if fp is not None:
                row = [
                    len(fp & flat_g[j]) if flat_g[j] is not None else self.match(ps[i], gs[j]) for j in rem_g
                ]
            else:
                row = [self.match(ps[i], gs[j]) for j in rem_g]
            scores.append(row)
        return total + _best_total(scores)

    def assign(self, ps: list, gs: list) -> list[tuple[int, int, int]]:
        """Pairs (i, j, matched leaves) of predicted item i with true item j, best total."""
        if not self.unordered:
            return [(i, i, self.match(ps[i], gs[i])) for i in range(min(len(ps), len(gs)))]
        k = min(len(ps), len(gs))
        if k == 0:
            return []
        # Every aligned pair identical: nothing can do better (each pair scores its maximum).
        if all(ps[i] == gs[i] for i in range(k)):
            return [(i, i, count_leaves(gs[i])) for i in range(k)]
        pairs: list[tuple[int, int, int]] = []
        if self.fuzzy:
            rem_p, rem_g = list(range(len(ps))), list(range(len(gs)))
        else:
            # Pairing identical items first is optimal for exact matching (an exchange argument:
            # matches compose transitively), and it is all that reordered rows need.
            frozen_g: dict[Any, list[int]] = {}
            for j in range(len(gs) - 1, -1, -1):
                frozen_g.setdefault(_freeze(gs[j]), []).append(j)
            rem_p = []
            used = set()
            for i, p in enumerate(ps):
                js = frozen_g.get(_freeze(p))
                if js:
                    j = js.pop()
                    used.add(j)
                    pairs.append((i, j, count_leaves(gs[j])))
                else:
                    rem_p.append(i)
            rem_g = [j for j in range(len(gs)) if j not in used]
        if rem_p and rem_g:
            pairs.extend(self._hungarian(ps, gs, rem_p, rem_g))
        pairs.sort(key=lambda t: t[1])
        return pairs

    def _hungarian(
        self, ps: list, gs: list, rem_p: list[int], rem_g: list[int]
    ) -> list[tuple[int, int, int]]:
        if len(rem_p) == 1 and len(rem_g) == 1:
            i, j = rem_p[0], rem_g[0]
            return [(i, j, self.match(ps[i], gs[j]))]
        scores = [[self.match(ps[i], gs[j]) for j in rem_g] for i in rem_p]
        if not any(any(row) for row in scores):
            return [(i, j, 0) for i, j in zip(rem_p, rem_g, strict=False)]
        import numpy as np
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(np.asarray(scores), maximize=True)
        return [(rem_p[a], rem_g[b], scores[a][b]) for a, b in zip(rows.tolist(), cols.tolist(), strict=True)]


def _distinct_maxima_total(lines) -> int | None:
    """Sum of each line's maximum when no two positive lines peak at the same index, else None."""
    best, taken = 0, set()
    for line in lines:
        m = max(line)
        if m:
            j = line.index(m)
            if j in taken:
                return None
            taken.add(j)
            best += m
    return best


def _best_total(scores: list[list[int]]) -> int:
    """The largest total of a one-to-one assignment on a non-negative score matrix."""
    # when the row (or column) maxima fall in distinct places, their sum is met and cannot be beaten
    for lines in (scores, list(zip(*scores, strict=True))):
        total = _distinct_maxima_total(lines)
        if total is not None:
            return total
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    rows, cols_ = linear_sum_assignment(np.asarray(scores), maximize=True)
    return sum(scores[a][b] for a, b in zip(rows.tolist(), cols_.tolist(), strict=True))


def match_counts(pred: Node | None, truth: Node | None, matcher: Matcher) -> tuple[int, int, int]:
    """(n matched, |S_p|, |S_g|) for two canonical trees."""
    return matcher.match(pred, truth), count_leaves(pred), count_leaves(truth)


def per_key_counts(
    pred: Node | None, truth: Node | None, matcher: Matcher
) -> dict[str, tuple[int, int, int]]:
    """match_counts split by top-level key (for per-key metrics)."""
    pred = pred if type(pred) is dict else {}
    truth = truth if type(truth) is dict else {}
    out = {}
    for key in {**truth, **pred}:
        p, g = pred.get(key), truth.get(key)
        out[key] = (matcher.match(p, g), count_leaves(p), count_leaves(g))
    return out
