"""What `make run` prints at the end: where each output is and how to look at it."""

from __future__ import annotations

import json

from medvie.env import project_root

# (path, what it is), in pipeline order; only those that exist are shown
OUTPUTS = [
    ("data/ingested/records.jsonl", "ingested records (rejections: data/ingested/rejected.jsonl)"),
    ("reports/validation.md", "data validation report"),
    ("data/selected.jsonl", "the diverse training sample"),
    ("metrics/diversity.json", "diversity of the sample vs random"),
    ("data/queries", "KV queries (train/val/test)"),
    ("models/grpo", "GRPO-tuned model (LoRA adapter)"),
    ("plots/train", "training curves (dvc plots show)"),
    ("metrics/eval.json", "test metrics per model (dvc metrics show)"),
    ("reports/eval.md", "evaluation report with the worst cases"),
    ("reports/registry.json", "registered model version and aliases"),
]


def print_locations() -> None:
    root = project_root()
    print("\nOutputs:")
    for rel, what in OUTPUTS:
        if (root / rel).exists():
            print(f"  {rel:<32} {what}")
    registry = root / "reports/registry.json"
    if registry.exists():
        info = json.loads(registry.read_text(encoding="utf-8"))
        name = info.get("name", "medvie")
        print(f"\nRegistered model: models:/{name}@champion (this run: version {info.get('version')})")
        print(f"  medvie extract IMAGE --model models:/{name}@champion")
    print("\nLook at it:")
    print("  .venv/bin/dvc metrics show")
    print("  .venv/bin/mlflow ui --backend-store-uri sqlite:///mlflow.db   # then http://127.0.0.1:5000")
