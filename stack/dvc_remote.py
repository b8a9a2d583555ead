"""The DVC remote of the stack: a local folder here; S3, GCS or SSH in production (docs/team.md).

It is configured per checkout in `.dvc/config.local` (git-ignored), so the project's committed
`.dvc/config` stays remote-free and `make run` unchanged; a production remote goes in `.dvc/config`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from medvie.errors import MedvieError

REMOTE = "stack"


def dvc(root: Path, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=root,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise MedvieError(f"dvc {' '.join(args[:2])} in {root} failed: {last}")
    return proc.stdout


def configure(root: Path, url: str | Path) -> bool:
    """Make `url` the default remote of the checkout at `root`; False if it already was."""
    url = str(url)
    if "://" not in url:
        Path(url).mkdir(parents=True, exist_ok=True)
    listed = [line.split() for line in dvc(root, "remote", "list", "--local").splitlines()]
    remotes = {parts[0]: parts[1] for parts in listed if len(parts) >= 2}  # name url [(default)]
    default = dvc(root, "remote", "default", "--local").strip() if remotes else ""
    if default == REMOTE and same_url(root, remotes.get(REMOTE, ""), url):
        return False
    if REMOTE in remotes:
        dvc(root, "remote", "modify", "--local", REMOTE, "url", url)
    else:
        dvc(root, "remote", "add", "--local", REMOTE, url)
    dvc(root, "remote", "default", "--local", REMOTE)
    return True


def same_url(root: Path, stored: str, url: str) -> bool:
    """DVC stores a local remote relative to `.dvc/`; compare it resolved."""
    stored = stored.strip()
    if "://" in stored or "://" in url:
        return stored == url
    return (root / ".dvc" / stored).resolve() == Path(url).resolve()
