"""Bring your own reports, in miniature: GRPO on ~100 reports of a form family the model never saw.

For each family: a fresh clone of this repository's HEAD draws `--n` reports of that one family as its
data set (`data.synthetic.families: [family]`, nothing held out, so they split into train/val/test like
a user's own folder) and runs the whole pipeline (`dvc repro`) once per seed (`train.seed`; only
training and what follows it re-run), reading `metrics/eval.json` after each. Prints base, GRPO and
OCR-baseline F1 per run and the mean GRPO gain per family. Families run side by side (`--jobs`).

    python benchmarks/byo.py --families greenwood,hillcrest --seeds 0,1,2 --work /tmp/byo [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def prepare(work: Path, family: str, seed: int, n: int, overrides: dict) -> Path:
    run_dir = work / family
    if not run_dir.exists():
        subprocess.run(["git", "clone", "-q", str(ROOT), str(run_dir)], check=True)
    params_path = run_dir / "params.yaml"
    params = yaml.safe_load(params_path.read_text())
    params["data"]["synthetic"].update({"families": [family], "n": n})
    params["data"]["holdout_families"] = []
    params["train"]["seed"] = seed
    for dotted, value in overrides.items():
        section, *path, key = dotted.split(".")
        node = params[section]
        for part in path:
            node = node[part]
        node[key] = value
    params_path.write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True))
    return run_dir


def run(run_dir: Path, seed: int) -> dict:
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    t0 = time.perf_counter()
    with (run_dir / f"byo-seed{seed}.log").open("w") as log:
        proc = subprocess.run(["dvc", "repro"], cwd=run_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode:
        return {"error": f"dvc repro failed, see {run_dir / f'byo-seed{seed}.log'}"}
    metrics = json.loads((run_dir / "metrics" / "eval.json").read_text())
    out = {"minutes": round((time.perf_counter() - t0) / 60, 1)}
    for model in ("base", "grpo", "ocr_baseline"):
        out[model] = metrics.get(model, {}).get("f1")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", default="greenwood,hillcrest")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--jobs", type=int, default=1, help="pipelines run at once (one CPU thread each)")
    ap.add_argument(
        "--set", action="append", default=[], help="extra params override, e.g. train.grpo.max_steps=80"
    )
    a = ap.parse_args()
    overrides = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in a.set)}
    a.work.mkdir(parents=True, exist_ok=True)
    families = a.families.split(",")
    seeds = [int(s) for s in a.seeds.split(",")]

    def family_runs(family: str) -> dict:
        out = {}
        for seed in seeds:
            out[(family, seed)] = run(prepare(a.work, family, seed, a.n, overrides), seed)
            print(family, seed, out[(family, seed)], flush=True)
        return out

    results: dict = {}
    with ThreadPoolExecutor(a.jobs) as pool:
        for part in pool.map(family_runs, families):
            results.update(part)
    print("family      seed  base   grpo   gain   ocr_baseline  minutes")
    for (family, seed), r in results.items():
        if "error" in r:
            print(f"{family:<11} {seed:<5} {r['error']}")
            continue
        gain = r["grpo"] - r["base"]
        print(
            f"{family:<11} {seed:<5} {r['base']:.3f}  {r['grpo']:.3f}  {gain:+.3f}  "
            f"{r['ocr_baseline']:.3f}         {r['minutes']}"
        )
    for family in a.families.split(","):
        ok = [r for (f, _), r in results.items() if f == family and "error" not in r]
        if ok:
            mean = sum(r["grpo"] - r["base"] for r in ok) / len(ok)
            print(f"{family}: mean GRPO gain over {len(ok)} seeds {mean:+.3f} F1")
    sys.exit(1 if any("error" in r for r in results.values()) else 0)


if __name__ == "__main__":
    main()
