"""Messages, progress bars and the way an entry point fails: one way for the whole project.

Library code logs through `logging.getLogger(__name__)` and wraps its long loops in `progress(...)`.
An entry point (a stage, the `medvie` command) runs its body inside `entry_point()`: `medvie.*`
messages then show as plain lines on stderr, progress bars are on, and a `MedvieError` ends the
process with one line, `error: <message>`, and exit code 2. Used as a library (tests, notebooks),
nothing is printed unless the caller configures logging.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from medvie.errors import MedvieError

T = TypeVar("T")

LOGGER = "medvie"
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
INTERRUPTED = "interrupted: outputs were left as they were before this run"

_bars = {"on": False}


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a message comes (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup(level: int = logging.INFO, *, bars: bool = True) -> logging.Logger:
    """Show `medvie.*` messages from `level` up as plain lines on stderr; progress bars on when `bars`.

    Calling it again changes the level and the bars, never adds a second handler.
    """
    logger = logging.getLogger(LOGGER)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    _bars["on"] = bars
    return logger


def bars_on() -> bool:
    """Whether an entry point asked for progress bars."""
    return _bars["on"]


def progress(iterable: Iterable[T], *, desc: str, total: int | None = None, unit: str = "it") -> Iterable[T]:
    """`iterable` behind a tqdm bar on stderr when bars are on (`setup`), else `iterable` itself."""
    if not _bars["on"]:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, unit=unit)


def shown(path: str | os.PathLike[str]) -> str:
    """`path` as a message shows it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@contextlib.contextmanager
def entry_point() -> Iterator[None]:
    """The body of a stage or CLI run: messages and bars on (`setup`); a `MedvieError` becomes
    `error: <message>` on stderr and exit code 2, Ctrl-C exit code 130 (outputs are written atomically)."""
    logger = setup()
    try:
        yield
    except MedvieError as exc:
        _end_bars()
        logger.error("error: %s", exc)
        raise SystemExit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        logger.error(INTERRUPTED)
        raise SystemExit(EXIT_INTERRUPTED) from None


def _end_bars() -> None:
    """Close the progress bars still open (ours or a library's, e.g. the trainer's), so the error is the last
    line on stderr and no bar redraws after it."""
    if "tqdm" not in sys.modules:
        return
    from tqdm import tqdm

    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()
