"""A faithful copy of Donut's JSONParseEvaluator (clovaai/donut, donut/util.py), for checks only.

Only the edit distance differs in where it comes from: nltk's `edit_distance` (substitution
cost 1, no transpositions) equals rapidfuzz's Levenshtein distance; `python_edit_distance`
is nltk's own dynamic programme, used when timing the original's speed.
"""

from __future__ import annotations

from typing import Any

import zss
from rapidfuzz.distance import Levenshtein
from zss import Node


def python_edit_distance(s1: str, s2: str) -> int:
    """nltk.edit_distance(s1, s2) with its defaults, as plain Python (one call per DP cell)."""
    len1, len2 = len(s1), len(s2)
    lev = [[0] * (len2 + 1) for _ in range(len1 + 1)]
    for i in range(len1 + 1):
        lev[i][0] = i
    for j in range(len2 + 1):
        lev[0][j] = j

    def step(lev: list, i: int, j: int, c1: str, c2: str) -> None:
        a = lev[i - 1][j] + 1
        b = lev[i][j - 1] + 1
        c = lev[i - 1][j - 1] + (1 if c1 != c2 else 0)
        lev[i][j] = min(a, b, c)

    for i in range(len1):
        for j in range(len2):
            step(lev, i + 1, j + 1, s1[i], s2[j])
    return lev[len1][len2]


class DonutEvaluator:
    def __init__(self, edit_distance=Levenshtein.distance):
        self.edit_distance = edit_distance

    @staticmethod
    def flatten(data: dict) -> list:
        flatten_data = list()

        def _flatten(value, key=""):
            if type(value) is dict:
                for child_key, child_value in value.items():
                    _flatten(child_value, f"{key}.{child_key}" if key else child_key)
            elif type(value) is list:
                for value_item in value:
                    _flatten(value_item, key)
            else:
                flatten_data.append((key, value))

        _flatten(data)
        return flatten_data

    def update_cost(self, node1: Node, node2: Node):
        label1 = node1.label
        label2 = node2.label
        label1_leaf = "<leaf>" in label1
        label2_leaf = "<leaf>" in label2
        if label1_leaf and label2_leaf:
            return self.edit_distance(label1.replace("<leaf>", ""), label2.replace("<leaf>", ""))
        elif not label1_leaf and label2_leaf:
            return 1 + len(label2.replace("<leaf>", ""))
        elif label1_leaf and not label2_leaf:
            return 1 + len(label1.replace("<leaf>", ""))
        else:
            return int(label1 != label2)

    @staticmethod
    def insert_and_remove_cost(node: Node):
        label = node.label
        if "<leaf>" in label:
            return len(label.replace("<leaf>", ""))
        else:
            return 1

    def normalize_dict(self, data: Any):
        if not data:
            return {}

        if isinstance(data, dict):
            new_data = dict()
            for key in sorted(data.keys(), key=lambda k: (len(k), k)):
                value = self.normalize_dict(data[key])
                if value:
                    if not isinstance(value, list):
                        value = [value]
                    new_data[key] = value

        elif isinstance(data, list):
            if all(isinstance(item, dict) for item in data):
                new_data = []
                for item in data:
                    item = self.normalize_dict(item)
                    if item:
                        new_data.append(item)
            else:
                new_data = [
                    str(item).strip()
                    for item in data
                    if type(item) in {str, int, float} and str(item).strip()
                ]
        else:
            new_data = [str(data).strip()]

        return new_data

    def cal_f1(self, preds: list, answers: list) -> float:
        total_tp, total_fn_or_fp = 0, 0
        for pred, answer in zip(preds, answers, strict=False):
            pred, answer = self.flatten(self.normalize_dict(pred)), self.flatten(self.normalize_dict(answer))
            for field in pred:
                if field in answer:
                    total_tp += 1
                    answer.remove(field)
                else:
                    total_fn_or_fp += 1
            total_fn_or_fp += len(answer)
        return total_tp / (total_tp + total_fn_or_fp / 2)

    def construct_tree_from_dict(self, data: Any, node_name: str | None = None):
        if node_name is None:
            node_name = "<root>"

        node = Node(node_name)

        if isinstance(data, dict):
            for key, value in data.items():
                kid_node = self.construct_tree_from_dict(value, key)
                node.addkid(kid_node)
        elif isinstance(data, list):
            if all(isinstance(item, dict) for item in data):
                for item in data:
                    kid_node = self.construct_tree_from_dict(item, "<subtree>")
                    node.addkid(kid_node)
            else:
                for item in data:
                    node.addkid(Node(f"<leaf>{item}"))
        else:
            raise Exception(data, node_name)
        return node

    def _distance(self, a, b):
        return zss.distance(
            a,
            b,
            get_children=zss.Node.get_children,
            insert_cost=self.insert_and_remove_cost,
            remove_cost=self.insert_and_remove_cost,
            update_cost=self.update_cost,
            return_operations=False,
        )

    def cal_acc(self, pred: dict, answer: dict) -> float:
        pred = self.construct_tree_from_dict(self.normalize_dict(pred))
        answer = self.construct_tree_from_dict(self.normalize_dict(answer))
        return max(
            0,
            1
            - (
                self._distance(pred, answer)
                / self._distance(self.construct_tree_from_dict(self.normalize_dict({})), answer)
            ),
        )
