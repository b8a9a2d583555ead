"""`train.launch`: GRPO's processes start from an accelerate config, whichever command asks for them.

`python -m stages.train` (what `dvc repro` runs) and `medvie train` both call `relaunch` first: outside a
launch it replaces this process with `accelerate launch --config_file <train.launch> <the same command>`,
so one process per GPU (or two CPU processes on gloo, configs/accelerate/cpu.yaml) train the same recipe
whichever way training was started. Inside a launch (its processes, or a user's own `accelerate launch`)
it returns at once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from medvie.errors import ConfigError

# set for the launched processes, so that they do not launch again (accelerate's one-process launcher
# sets no WORLD_SIZE)
LAUNCHED = "MEDVIE_LAUNCHED"


def launched() -> bool:
    """This process is one of a launch's (ours, or a user's `accelerate launch`/`torchrun`)."""
    return any(key in os.environ for key in (LAUNCHED, "WORLD_SIZE", "ACCELERATE_MIXED_PRECISION"))


def launch_command(config: Path, argv: Sequence[str]) -> list[str]:
    """`accelerate launch` of this interpreter's environment with `config`, running `python <argv>`."""
    accelerate = Path(sys.executable).with_name("accelerate")
    return [str(accelerate), "launch", "--config_file", str(config), *argv]


def config_path(launch: str, root: Path) -> Path:
    """`train.launch` under the project root, checked to exist."""
    path = Path(launch) if Path(launch).is_absolute() else root / launch
    if not path.is_file():
        raise ConfigError(
            f"train.launch: {launch} not found; name an accelerate config such as configs/accelerate/cpu.yaml"
        )
    return path


def processes(launch: str, root: Path) -> int:
    """The number of processes `train.launch` starts."""
    import yaml

    path = config_path(launch, root)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return int(data.get("num_processes", 1))
    except (yaml.YAMLError, AttributeError, TypeError, ValueError) as exc:
        msg = str(exc).splitlines()[0]
        raise ConfigError(f"train.launch: {path} is not an accelerate config ({msg})") from None


def relaunch(launch: str, root: Path, argv: Sequence[str]) -> None:
    """Outside a launch: exec `accelerate launch` with `train.launch` running `python <argv>` (does not
    return). Inside one: return."""
    if launched():
        return
    cmd = launch_command(config_path(launch, root), argv)
    env = {**os.environ, LAUNCHED: "1"}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(cmd[0], cmd, env)
