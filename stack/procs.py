"""Background services: started in their own session (stopped as a group), pid files, log files."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from medvie.errors import MedvieError
from stack.config import Stack


def pid_file(stack: Stack, name: str) -> Path:
    return stack.pids / f"{name}.pid"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is dead for our purposes
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def running_pid(stack: Stack, name: str) -> int | None:
    path = pid_file(stack, name)
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def start(
    stack: Stack, name: str, cmd: list[str], env: Mapping[str, str], cwd: Path | None = None
) -> subprocess.Popen:
    """Start `cmd` detached (its own session: `stop` ends the whole group), output to logs/<name>.log."""
    stack.logs.mkdir(parents=True, exist_ok=True)
    stack.pids.mkdir(parents=True, exist_ok=True)
    log = (stack.logs / f"{name}.log").open("ab")
    log.write(f"\n==== start {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
    log.flush()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd or stack.root,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    pid_file(stack, name).write_text(str(proc.pid))
    return proc


def stop(stack: Stack, name: str, *, sig: int = signal.SIGTERM, timeout: float = 30.0) -> bool:
    """Signal the service's process group; SIGKILL after `timeout`. False if it was not running."""
    pid = running_pid(stack, name)
    if pid is None:
        pid_file(stack, name).unlink(missing_ok=True)
        return False
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while alive(pid):
            time.sleep(0.1)
    _reap(pid)
    pid_file(stack, name).unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_for(
    what: str, ready: Callable[[], bool], *, timeout: float, log: Path | None = None, pid: int | None = None
) -> None:
    """Poll `ready` until true; fail with one line naming `what` (and its log) otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if pid is not None and not alive(pid):
            break
        time.sleep(0.5)
    where = f"; see {log}" if log else ""
    state = "exited" if pid is not None and not alive(pid) else f"not ready after {timeout:.0f}s"
    raise MedvieError(f"{what} {state}{where}")
