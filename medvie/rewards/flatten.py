"""From a JSON answer to what is compared: a normalised tree, or its (key path, value) pairs.

Empty values ("", null, [], {}, blank text) are dropped on both sides, as in the paper's case
studies and Donut: asking for a field that the report lacks and getting "" back is neither a
hit nor a miss.

>>> flatten({"Name": "Li", "Age": "", "Indicators": [{"Item Name": "WBC", "Unit": None}]})
[('Name', 'Li'), ('Indicators[0].Item Name', 'WBC')]
"""

from __future__ import annotations

from typing import Any

from medvie.rewards.normalize import _normalize_text, normalize_key, normalize_value

# A canonical node is a non-empty str (normalised leaf), dict (key -> node) or list (of nodes).
Node = Any


# The reward canonicalises every completion, and a report repeats its keys and many of its values:
# per-fold dict caches in front of the normalisers (a dict lookup costs less than an lru_cache call).
_CACHE_MAX = 1 << 16
_WALKS: dict[bool, Any] = {}


def canonicalize(obj: Any, case_fold: bool = False) -> Node | None:
    """Normalise every key and leaf and drop empties; None when nothing is left."""
    return canonicalize_count(obj, case_fold)[0]


def canonicalize_count(obj: Any, case_fold: bool = False) -> tuple[Node | None, int]:
    """(canonical tree, number of leaves): one pass, as the reward needs both."""
    walk = _WALKS.get(case_fold)
    if walk is None:
        walk = _WALKS[case_fold] = _canonical_walk(case_fold)
    return walk(obj)


def _canonical_walk(case_fold: bool) -> Any:
    texts: dict[str, str] = {}
    keys: dict[str, str] = {}
    text_get, key_get = texts.get, keys.get

    def text(v: str) -> str:  # a cache miss
        c = _normalize_text(v, case_fold)
        if len(texts) >= _CACHE_MAX:
            texts.clear()
        texts[v] = c
        return c

    def key(k: str) -> str:
        c = key_get(k)
        if c is None:
            c = normalize_key(k, case_fold)
            if len(keys) >= _CACHE_MAX:
                keys.clear()
            keys[k] = c
        return c

    def walk(obj: Any) -> tuple[Node | None, int]:
        t = type(obj)
        if t is dict:
            out = {}
            total = 0
            for k, v in obj.items():
                if type(v) is str:  # the common leaf, inlined (cache hits: two dict lookups)
                    if v:
                        c = text_get(v)
                        if c is None:
                            c = text(v)
                        if c:
                            if type(k) is str:
                                kc = key_get(k)
                                out[key(k) if kc is None else kc] = c
                            else:
                                out[str(k)] = c
                            total += 1
                    continue
                node, n = walk(v)
                if node is not None:
                    out[key(str(k))] = node
                    total += n
            return (out, total) if out else (None, 0)
        if t is str:
            if not obj:
                return None, 0
            c = text_get(obj)
            if c is None:
                c = text(obj)
            return (c, 1) if c else (None, 0)
        if t is list:
            items = []
            total = 0
            for v in obj:
                node, n = walk(v)
                if node is not None:
                    items.append(node)
                    total += n
            return (items, total) if items else (None, 0)
        v = normalize_value(obj, case_fold)
        return (v, 1) if v else (None, 0)

    return walk


def count_leaves(node: Node | None) -> int:
    t = type(node)
    if t is str:
        return 1
    if node is None:
        return 0
    n = 0
    for c in node.values() if t is dict else node:
        n += 1 if type(c) is str else count_leaves(c)
    return n


def flatten(obj: Any, case_fold: bool = False) -> list[tuple[str, str]]:
    """Every non-empty leaf as (path, normalised value); list items indexed, as the paper does."""
    out: list[tuple[str, str]] = []

    def walk(node: Node, path: str) -> None:
        if type(node) is str:
            out.append((path, node))
        elif type(node) is dict:
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else k)
        else:
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    root = canonicalize(obj, case_fold)
    if root is not None:
        walk(root, "")
    return out
