"""GRPO step time and peak memory on CPU: the tiny model with params.yaml's train.grpo recipe.

python benchmarks/grpo_step.py [--steps 3] — prints mean step time (s) and peak RSS (MiB).
Uses a random tiny model of the project's default size and synthetic 448x300 pages, so the numbers
measure cost, not learning (a random model always writes max_completion_length tokens: worst case).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from medvie.env import apply_defaults

apply_defaults()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3)
    a = ap.parse_args()
    from PIL import Image, ImageDraw

    from medvie.modeling.tiny import build_tiny, save_tiny
    from medvie.settings import load_params, parse_params
    from medvie.training.train import train_grpo

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model, processor = build_tiny()
        save_tiny(model, processor, root / "models" / "warmstart")
        qdir = root / "data" / "queries"
        (qdir / "images").mkdir(parents=True)
        lines = []
        for i in range(8):
            img = Image.new("RGB", (448, 300), "white")
            draw = ImageDraw.Draw(img)
            for row in range(12):
                draw.text((10, 10 + 22 * row), f"WBC {i + row}.{row} 10^9/L 3.5-9.5", fill="black")
            img.save(qdir / "images" / f"{i}.png")
            lines.append(
                json.dumps(
                    {
                        "id": f"q{i}",
                        "record_id": f"r{i}",
                        "image": f"images/{i}.png",
                        "truth": json.dumps({"Name": "X"}),
                        "prompt": [
                            {
                                "role": "user",
                                "content": [{"type": "image"}, {"type": "text", "text": "Name as JSON"}],
                            }
                        ],
                        "keys": ["Name"],
                        "thinking": True,
                        "doc_type": "cbc",
                        "strategy": "subset",
                    }
                )
            )
        (qdir / "train.jsonl").write_text("\n".join(lines) + "\n")
        recipe = dict(load_params(Path(__file__).resolve().parents[1] / "params.yaml").train.grpo)
        params = parse_params({"train": {"grpo": {**recipe, "max_steps": a.steps, "save_steps": a.steps}}})
        s = train_grpo(params, root, tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    print(
        f"grpo tiny CPU: steps={s['global_step']} num_generations={recipe['num_generations']} "
        f"max_completion_length={recipe['max_completion_length']} step_time_mean_s={s['step_time_mean_s']} "
        f"peak_rss_mib={s['peak_rss_mib']}"
    )


if __name__ == "__main__":
    sys.exit(main())
