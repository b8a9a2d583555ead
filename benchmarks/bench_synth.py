"""Synthetic generator throughput: images/s per preset on one core (render + capture + encode).

OMP_NUM_THREADS=1 python benchmarks/bench_synth.py [--n 60]
"""

from __future__ import annotations

import argparse
import io
import time

from medvie.data.synth import DOC_TYPES, LANGUAGES, render_report


def bench(preset: str, n: int) -> tuple[float, float]:
    render_report(0, preset, "en")  # fonts and noise tiles are cached after the first report
    render_report(0, preset, "zh")
    t0 = time.perf_counter()
    t_encode = 0.0
    for i in range(n):
        rep = render_report(1000 + i, preset, LANGUAGES[i % 2], DOC_TYPES[i % len(DOC_TYPES)])
        t1 = time.perf_counter()
        if rep.encoded is None:
            rep.image.save(io.BytesIO(), "PNG")
        t_encode += time.perf_counter() - t1
    total = time.perf_counter() - t0
    return n / total, n / (total - t_encode)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60, help="reports per preset")
    ap.add_argument("--presets", default="tiny,full")
    args = ap.parse_args()
    for preset in args.presets.split(","):
        with_io, render_only = bench(preset, args.n)
        print(
            f"{preset:5s} {with_io:7.1f} images/s (incl. encoding)  {render_only:7.1f} images/s (render only)"
        )


if __name__ == "__main__":
    main()
