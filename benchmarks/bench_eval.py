"""Evaluation throughput on the tiny model: queries/s batched vs one at a time.

python benchmarks/bench_eval.py [--n 16] [--batch 8] [--max-new-tokens 32]
"""

from __future__ import annotations

import argparse
import time

from medvie.env import apply_defaults


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    args = ap.parse_args()
    apply_defaults()
    import torch

    torch.set_num_threads(1)
    from medvie import modeling
    from medvie.data.synth import render_report

    model, processor = modeling.build_tiny()
    images = [render_report(seed, "tiny", "en", "cbc").image for seed in range(args.n)]
    prompt = [
        {
            "role": "user",
            "content": [{"type": "image"}, {"type": "text", "text": "Extract Name and Age as JSON."}],
        }
    ]
    for label, bs in (("one at a time", 1), (f"batched ({args.batch})", args.batch)):
        modeling.generate(model, processor, images[:1], [prompt], max_new_tokens=4, batch_size=1)  # warm-up
        t0 = time.perf_counter()
        modeling.generate(
            model, processor, images, [prompt] * args.n, max_new_tokens=args.max_new_tokens, batch_size=bs
        )
        dt = time.perf_counter() - t0
        print(
            f"{label:16s} {args.n / dt:7.2f} images/s  "
            f"({dt:.2f} s for {args.n}, max_new_tokens={args.max_new_tokens})"
        )


if __name__ == "__main__":
    main()
