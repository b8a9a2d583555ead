"""Ingestion throughput (images/s) and the near-duplicate search on 10k hashes.

Usage: python benchmarks/bench_ingest.py [--n 200] [--workers 1] [--synth]
Uses the synthetic generator with --synth when it is available, else PIL-drawn report-like pages.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def pil_pages(root: Path, n: int, size: tuple[int, int]) -> None:
    """Report-like JPEG pages: a header, a table of lines of text, a few rules."""
    (root / "images").mkdir(parents=True)
    lines = []
    for i in range(n):
        rng = random.Random(i)
        im = Image.new("RGB", size, (250, 250, 246))
        d = ImageDraw.Draw(im)
        d.text((20, 15), f"Hospital {rng.randint(1, 99)}  Report {i}", fill="black")
        for row in range(size[1] // 24 - 2):
            y = 45 + row * 22
            row_text = (
                f"Item {rng.randint(1, 999)}   {rng.uniform(0, 200):.2f}   mg/dL   0-{rng.randint(5, 300)}"
            )
            d.text((20, y), row_text, fill=(20, 20, 20))
            if rng.random() < 0.2:
                d.line((15, y + 18, size[0] - 15, y + 18), fill=(120, 120, 120))
        im = im.rotate(rng.uniform(-3, 3), expand=False, fillcolor=(200, 200, 200))
        im.save(root / "images" / f"p{i:05d}.jpg", quality=85)
        lines.append(
            json.dumps(
                {
                    "id": f"p{i:05d}",
                    "image": f"images/p{i:05d}.jpg",
                    "label": {"Name": "x"},
                    "doc_type": "cbc",
                }
            )
        )
    (root / "labels.jsonl").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--size", default="640x880", help="page size of the PIL pages")
    ap.add_argument("--synth", action="store_true", help="render pages with medvie.data.synth")
    args = ap.parse_args()

    from medvie.data.config import DataConfig
    from medvie.data.ingest import ingest
    from medvie.data.split import near_duplicate_pairs

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        t0 = time.perf_counter()
        if args.synth:
            from medvie.data.synth import write_dataset

            write_dataset(src, n=args.n, seed=0)
            kind = "synth"
        else:
            w, h = (int(v) for v in args.size.split("x"))
            pil_pages(src, args.n, (w, h))
            kind = f"pil {args.size}"
        gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        summary = ingest(src, Path(tmp) / "out", DataConfig(workers=args.workers, max_reject_share=1.0))
        dt = time.perf_counter() - t0
    print(f"pages: {kind}, n={args.n}, generated in {gen:.1f} s")
    print(
        f"ingest: {summary['n_kept']} kept in {dt:.2f} s = {summary['n_kept'] / dt:.1f} images/s "
        f"(workers={args.workers}); duplicate groups {summary['duplicate_groups']}, "
        f"largest {summary['largest_duplicate_group']}"
    )

    hashes = np.random.default_rng(0).integers(0, 2**63, 10_000, dtype=np.uint64)
    t0 = time.perf_counter()
    pairs = near_duplicate_pairs(hashes, 4)
    print(f"near-duplicate search: 10000 hashes, {len(pairs)} pairs in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
