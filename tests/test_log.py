"""Messages, progress bars and the one-line failure of every entry point (stages and the CLI)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from medvie import log as mlog
from medvie.errors import DataError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def clean_logger():
    logger = logging.getLogger(mlog.LOGGER)
    saved = (list(logger.handlers), logger.level, logger.propagate, mlog.bars_on())
    yield logger
    logger.handlers[:] = saved[0]
    logger.setLevel(saved[1])
    logger.propagate = saved[2]
    mlog._bars["on"] = saved[3]


def test_library_use_prints_nothing_and_has_no_bars(clean_logger):
    items = [1, 2, 3]
    assert mlog.progress(items, desc="x") is items


def test_setup_prints_plain_lines_on_stderr_once(clean_logger, capsys):
    mlog.setup()
    mlog.setup()
    logging.getLogger("medvie.some.area").info("sample: 3 of 9")
    logging.getLogger("medvie.some.area").debug("hidden")
    assert capsys.readouterr().err == "sample: 3 of 9\n"
    assert len(clean_logger.handlers) == 1
    bar = mlog.progress(range(3), desc="ocr", unit="page")
    assert list(bar) == [0, 1, 2] and type(bar).__name__ == "tqdm"


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (DataError("data/x.jsonl: not found; run ingest"), 2, "error: data/x.jsonl: not found; run ingest"),
        (KeyboardInterrupt(), 130, mlog.INTERRUPTED),
    ],
)
def test_entry_point_ends_in_one_line_and_an_exit_code(clean_logger, capsys, exc, code, line):
    with pytest.raises(SystemExit) as done, mlog.entry_point():
        raise exc
    assert done.value.code == code
    assert capsys.readouterr().err == line + "\n"


def test_an_error_during_a_live_progress_bar_is_the_last_line(clean_logger, capsys):
    """A stage failing while a bar (a library's, like the trainer's) is still open: the bar is closed first,
    so the error is the last line and nothing redraws after it."""
    from tqdm.auto import tqdm

    with pytest.raises(SystemExit), mlog.entry_point():
        bar = tqdm(total=10, desc="train")
        bar.update(3)
        raise DataError("MLflow tracking server http://127.0.0.1:5050 stopped answering at step 3")
    err = capsys.readouterr().err
    assert err.endswith("error: MLflow tracking server http://127.0.0.1:5050 stopped answering at step 3\n")
    assert err.splitlines()[-1].startswith("error: ")


def test_shown_paths_are_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert mlog.shown(tmp_path / "data" / "x") == os.path.join("data", "x")
    assert mlog.shown("/elsewhere/y") == "/elsewhere/y"


def test_a_stage_and_its_command_fail_the_same_way(tmp_path):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    env = {**os.environ, "MEDVIE_ROOT": str(tmp_path), "PYTHONPATH": str(REPO)}
    runs = [
        [sys.executable, "-m", "stages.sample"],
        [sys.executable, "-m", "medvie", "sample", "--records", str(tmp_path / "data/ingested")],
    ]
    lines = []
    for cmd in runs:
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr
        lines.append(proc.stderr.strip())
    assert lines[0] == lines[1]
    assert lines[0].startswith("error: ") and "records.jsonl: not found" in lines[0]
