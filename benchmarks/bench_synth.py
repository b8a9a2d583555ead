"""Synthetic report rendering throughput per preset, one process (run with OMP_NUM_THREADS=1).

    python benchmarks/bench_synth.py [--n 60]
"""

import argparse
import time

from medvie.data.synth import render_report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60)
    args = ap.parse_args()
    for preset in ("tiny", "full"):
        render_report(0, preset, "en")  # font loading and caches
        for language in ("en", "zh"):
            start = time.perf_counter()
            for seed in range(args.n):
                rep = render_report(1000 + seed, preset, language)
            dt = time.perf_counter() - start
            w, h = rep.image.size
            print(f"{preset:5s} {language}  {args.n / dt:7.1f} images/s  (last {w}x{h})")


if __name__ == "__main__":
    main()
