"""DVC driven as a subprocess (`python -m dvc`), so DVC alone decides what is cached.

No Prefect here: these helpers are plain functions the flows wrap in tasks.
"""

from __future__ import annotations

import heapq
import json
import os
import re
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medvie.errors import MedvieError

# Failures worth another try: another DVC process holds the lock, SQLite busy, the process was
# killed (OOM killer, preemption). Anything else is deterministic and must surface at once.
TRANSIENT_PATTERNS = (
    r"Unable to acquire lock",
    r"database is locked",
    r"Connection (reset|refused|aborted)",
    r"Temporary failure",
    r"Too many open files",
)
_KILLED_CODES = {-9, -15, 137, 143}
_EXITED = re.compile(r"exited with (-?\d+)")


class StageFailed(MedvieError):
    """A DVC stage (or DVC itself) failed; the message is the stage's own last stderr line."""

    def __init__(self, message: str, *, stage: str = "", returncode: int = 1, transient: bool = False):
        super().__init__(message)
        self.stage = stage
        self.returncode = returncode
        self.transient = transient


@dataclass(frozen=True)
class DvcResult:
    returncode: int
    stdout: str
    stderr: str


def dvc_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


def _venv_path() -> str:
    """PATH with this interpreter's bin first: dvc.yaml's `python -m stages.…` must run in this
    environment."""
    here = os.path.dirname(sys.executable)
    return os.pathsep.join([here, os.environ.get("PATH", "")])


def run_dvc(
    args: list[str],
    cwd: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    on_line: Callable[[str, str], None] | None = None,
    keep_lines: int = 400,
) -> DvcResult:
    """Run `python -m dvc ARGS` in `cwd`; stream lines to `on_line(stream, line)`; keep the tails."""
    proc = subprocess.Popen(
        dvc_command(*args),
        cwd=cwd,
        env={**os.environ, "PATH": _venv_path(), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    tails: dict[str, deque[str]] = {"stdout": deque(maxlen=keep_lines), "stderr": deque(maxlen=keep_lines)}

    def pump(name: str, stream) -> None:
        for line in stream:
            line = line.rstrip("\n")
            tails[name].append(line)
            if on_line is not None:
                on_line(name, line)

    readers = [
        threading.Thread(target=pump, args=(n, s), daemon=True)
        for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))
    ]
    for t in readers:
        t.start()
    try:
        returncode = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    for t in readers:
        t.join()
    return DvcResult(returncode, "\n".join(tails["stdout"]), "\n".join(tails["stderr"]))


def failure_message(stderr: str) -> str:
    """The one line that says why: the stage's last stderr line, else DVC's own ERROR line.

    DVC echoes a stage's stderr and then appends `ERROR: failed to reproduce …` (possibly with
    indented hints), so the stage's message is the last non-empty line before DVC's first ERROR.
    """
    lines = stderr.splitlines()
    first_error = next((i for i, ln in enumerate(lines) if ln.startswith("ERROR:")), None)
    if first_error is not None and "failed to run:" not in lines[first_error]:
        # DVC itself failed (a missing dependency, a bad dvc.yaml): earlier lines belong to other stages
        return lines[first_error].removeprefix("ERROR:").strip()
    own = [ln.strip() for ln in (lines if first_error is None else lines[:first_error]) if ln.strip()]
    if own:
        return own[-1]
    if first_error is not None:
        return lines[first_error].removeprefix("ERROR:").strip()
    return "failed without a message on stderr"


def is_transient(stderr: str, returncode: int) -> bool:
    codes = {returncode, *(int(c) for c in _EXITED.findall(stderr))}
    if codes & _KILLED_CODES:
        return True
    return any(re.search(p, stderr) for p in TRANSIENT_PATTERNS)


def check(result: DvcResult, what: str, stage: str = "") -> DvcResult:
    """Raise StageFailed naming `what` with the failure's one line; return `result` on success."""
    if result.returncode != 0:
        raise StageFailed(
            f"{what} failed: {failure_message(result.stderr)}",
            stage=stage,
            returncode=result.returncode,
            transient=is_transient(result.stderr, result.returncode),
        )
    return result


def repro(stage: str, root: Path, *, env: Mapping[str, str] | None = None, on_line=None) -> DvcResult:
    return check(run_dvc(["repro", stage], root, env=env, on_line=on_line), f"stage '{stage}'", stage)


_NODE = re.compile(r'^"(.+)";$')
_EDGE = re.compile(r'^"(.+)" -> "(.+)";$')


def parse_dot(dot: str) -> tuple[list[str], list[tuple[str, str]]]:
    nodes: list[str] = []
    edges: list[tuple[str, str]] = []
    for line in dot.splitlines():
        line = line.strip()
        if m := _EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        elif m := _NODE.match(line):
            nodes.append(m.group(1))
    for a, b in edges:  # an edge may name a node the node list left out
        for n in (a, b):
            if n not in nodes:
                nodes.append(n)
    return nodes, edges


def topological(nodes: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Kahn's algorithm; ties broken by `nodes` order (DVC lists stages in dvc.yaml order)."""
    rank = {n: i for i, n in enumerate(nodes)}
    indeg = dict.fromkeys(nodes, 0)
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        children[a].append(b)
        indeg[b] += 1
    ready = [(rank[n], n) for n in nodes if indeg[n] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, n = heapq.heappop(ready)
        order.append(n)
        for c in children[n]:
            indeg[c] -= 1
            if indeg[c] == 0:
                heapq.heappush(ready, (rank[c], c))
    if len(order) != len(nodes):
        raise MedvieError("dvc.yaml: the stages form a cycle; fix the deps/outs")
    return order


def stage_order(root: Path) -> list[str]:
    """Every stage of the project in an order DVC can run them, from `dvc dag --dot`."""
    result = check(run_dvc(["dag", "--dot"], root), "dvc dag")
    order = topological(*parse_dot(result.stdout))
    if not order:
        raise MedvieError(f"{root / 'dvc.yaml'}: no stages found; add stages or run from the project root")
    return order


def default_remote(root: Path) -> str | None:
    """The name of the project's default DVC remote (any config level), or None when there is none."""
    result = run_dvc(["remote", "default"], root)
    name = result.stdout.strip()
    return name if result.returncode == 0 and name else None


def push(root: Path, *, on_line=None) -> DvcResult:
    """`dvc push`: the outputs of dvc.lock to the default remote (another clone can `dvc pull` them)."""
    return check(run_dvc(["push"], root, on_line=on_line), "dvc push")


def status(root: Path, targets: list[str] | None = None) -> dict[str, Any]:
    """`dvc status --json`: {} when everything is up to date."""
    result = check(run_dvc(["status", "--json", *(targets or [])], root), "dvc status")
    text = result.stdout.strip()
    return json.loads(text) if text else {}


def exp_run(
    root: Path,
    name: str,
    overrides: Mapping[str, Any],
    *,
    targets: list[str] | None = None,
    env: Mapping[str, str] | None = None,
    on_line=None,
) -> DvcResult:
    """One DVC experiment in a temporary copy of the workspace (the workspace stays clean)."""
    args = ["exp", "run", "--temp", "-n", name]
    for key, value in overrides.items():
        args += ["--set-param", f"{key}={format_value(value)}"]
    args += targets or []
    return check(run_dvc(args, root, env=env, on_line=on_line), f"experiment '{name}'", name)


def format_value(value: Any) -> str:
    """A value as Hydra override syntax (what `--set-param` parses)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def exp_show(root: Path) -> list[dict[str, Any]]:
    result = check(run_dvc(["exp", "show", "--json"], root), "dvc exp show")
    return json.loads(result.stdout or "[]")


def exp_results(show: list[dict[str, Any]], names: list[str]) -> dict[str, dict[str, Any]]:
    """{name: {"metrics": {file: data}, "params": {file: data}, "errors": {file: msg}}} from
    `exp show --json`."""
    found: dict[str, dict[str, Any]] = {}
    for commit in show:
        for exp in commit.get("experiments") or []:
            revs = exp.get("revs") or []
            if exp.get("name") not in names or not revs:
                continue
            data = revs[0].get("data") or {}
            metrics = data.get("metrics") or {}
            found[exp["name"]] = {
                "metrics": {f: (v or {}).get("data", {}) for f, v in metrics.items()},
                "params": {f: (v or {}).get("data", {}) for f, v in (data.get("params") or {}).items()},
                # e.g. a `cache: false` metrics file that .gitignore keeps out of the experiment's commit
                "errors": {
                    f: str(v["error"].get("msg", v["error"]))
                    for f, v in metrics.items()
                    if isinstance(v, dict) and v.get("error")
                },
            }
    return found
