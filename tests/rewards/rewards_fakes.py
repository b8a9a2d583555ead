"""Realistic lab-report labels and model-like mistakes, generated from a seed."""

from __future__ import annotations

import copy
import json
import random

ITEMS = [
    ("WBC", "10^9/L", "3.5-9.5"),
    ("RBC", "10^12/L", "4.3-5.8"),
    ("HGB", "g/L", "130-175"),
    ("HCT", "%", "40-50"),
    ("MCV", "fL", "82-100"),
    ("MCH", "pg", "27-34"),
    ("PLT", "10^9/L", "125-350"),
    ("NEUT%", "%", "40-75"),
    ("LYMPH%", "%", "20-50"),
    ("ALT", "U/L", "9-50"),
    ("AST", "U/L", "15-40"),
    ("GLU", "mmol/L", "3.9-6.1"),
    ("TG", "mmol/L", "0.45-1.7"),
    ("TC", "mmol/L", "<5.2"),
    ("白细胞计数", "10^9/L", "3.5-9.5"),
    ("血红蛋白", "g/L", "115-150"),
    ("TSH", "mIU/L", "0.27-4.2"),
]
NAMES = ["Li Wei", "Zhang Min", "王芳", "Chen Jie", "Maria Rossi", "刘洋"]


def make_report(rng: random.Random, n_rows: int) -> dict:
    rows = []
    for name, unit, ref in rng.sample(ITEMS, min(n_rows, len(ITEMS))):
        value = f"{rng.uniform(0.1, 200):.{rng.choice([0, 1, 2])}f}"
        rows.append(
            {
                "Item Name": name,
                "Result": value,
                "Unit": unit,
                "Reference Range": ref,
                "Abnormal Mark": rng.choice(["", "", "↑", "↓"]),
            }
        )
    return {
        "Name": rng.choice(NAMES),
        "Gender": rng.choice(["Male", "Female", "男", "女"]),
        "Age": str(rng.randint(1, 95)),
        "Examination Time": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 09:14",
        "Department": rng.choice(["Hematology", "检验科", "Endocrinology"]),
        "Examination Name": rng.choice(["Complete Blood Count", "Liver Function", "血常规"]),
        "Indicators": rows,
        "Diagnosis": rng.choice(["", "Mild anemia; follow up in 2 weeks.", "未见明显异常"]),
        "Sample Collection Time": "2025-03-02 08:30",
    }


def perturb(label: dict, rng: random.Random) -> dict:
    """A model-like answer: some rows shuffled, values misread, a field dropped or invented."""
    pred = copy.deepcopy(label)
    kind = rng.random()
    if kind < 0.2:
        return pred
    rows = pred["Indicators"]
    if rng.random() < 0.5:
        rng.shuffle(rows)
    for row in rows:
        if rng.random() < 0.15:
            row["Result"] = row["Result"][:-1] + str(rng.randint(0, 9))
        if rng.random() < 0.05:
            row["Unit"] = ""
    if rng.random() < 0.3:
        pred.pop(rng.choice(list(pred)), None)
    if rng.random() < 0.2:
        pred["Others"] = "Fasting sample"
    if rng.random() < 0.2 and rows:
        rows.append(dict(rows[0], **{"Item Name": "EXTRA"}))
    return pred


def completion(pred: dict, thinking: bool = True) -> str:
    body = json.dumps(pred, ensure_ascii=False)
    return (
        f"<think>Reading the table row by row.</think>\n<answer>{body}</answer>"
        if thinking
        else f"<answer>{body}</answer>"
    )
