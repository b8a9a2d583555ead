"""End to end: a copy of the project, a small labelled folder, `dvc repro validate`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def _write_source(src: Path, n: int) -> None:
    from medvie.data.synth import write_dataset

    write_dataset(src, n=n, seed=0)


@pytest.mark.slow
def test_dvc_repro_validate(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(REPO / name, proj / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("medvie", "stages", "schemas"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, proj / name, ignore=ignore)
    _write_source(proj / "src", 16)
    params = yaml.safe_load((proj / "params.yaml").read_text())
    params["data"]["source"] = "src"
    params["data"]["synthetic"]["n"] = 16
    params["data"]["holdout_families"] = []  # a user's folder: every record splits by its id
    (proj / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    env = {k: v for k, v in os.environ.items() if k not in ("MEDVIE_ROOT", "PYTHONPATH")}
    # dvc runs `python -m stages.x` through the shell: it must be this interpreter
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        DVC_NO_ANALYTICS="1",
        OMP_NUM_THREADS="1",
    )

    def sh(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, cwd=proj, env=env, capture_output=True, text=True, timeout=300)

    assert sh("git", "init", "-q").returncode == 0
    assert sh(sys.executable, "-m", "dvc", "init", "-q").returncode == 0
    # with data.source pointing at a user folder, synth is not upstream of validate
    proc = sh(sys.executable, "-m", "dvc", "repro", "validate")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]

    summary = json.loads((proj / "data/ingested/summary.json").read_text())
    assert summary["n_kept"] == 16 and summary["n_rejected"] == 0
    report = json.loads((proj / "reports/validation.json").read_text())
    assert report["success"] and report["n_records"] == 16
    assert (proj / "reports/validation.md").read_text().startswith("# Data validation: PASSED")
    assert (proj / "dvc.lock").exists()
    metrics = sh(sys.executable, "-m", "dvc", "metrics", "show", "--json")
    assert metrics.returncode == 0 and "n_records" in metrics.stdout
