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


def canonicalize(obj: Any, case_fold: bool = False) -> Node | None:
    """Normalise every key and leaf and drop empties; None when nothing is left."""
    return canonicalize_count(obj, case_fold)[0]


def canonicalize_count(obj: Any, case_fold: bool = False) -> tuple[Node | None, int]:
    """(canonical tree, number of leaves): one pass, as the reward needs both."""
    t = type(obj)
    if t is str:
        v = _normalize_text(obj, case_fold) if obj else ""
        return (v, 1) if v else (None, 0)
    if t is dict:
        out = {}
        total = 0
        for k, v in obj.items():
            if type(v) is str:  # the common leaf, inlined
                if v and (v := _normalize_text(v, case_fold)):
                    out[normalize_key(k, case_fold) if type(k) is str else str(k)] = v
                    total += 1
                continue
            node, n = canonicalize_count(v, case_fold)
            if node is not None:
                out[normalize_key(str(k), case_fold)] = node
                total += n
        return (out, total) if out else (None, 0)
    if t is list:
        items = []
        total = 0
        for v in obj:
            node, n = canonicalize_count(v, case_fold)
            if node is not None:
                items.append(node)
                total += n
        return (items, total) if items else (None, 0)
    v = normalize_value(obj, case_fold)
    return (v, 1) if v else (None, 0)


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
